"""The second rating (整改后再评价): after a rectification asked the resident to rate again, one more rating,
recorded beside the first (CaseRated round 2, follows_rating_id) and never replacing it. Pure.
Why it works so: docs/adr/0036-rating-loop-messages.md."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from contracts.envelope import NewEvent
from contracts.errors import DomainError
from contracts.events import CaseRated, CaseRatedPayload, RatingChannel
from services.intake.ratings import BAD_RATING_AT_MOST, Rating, check_rating

SECOND_ROUND = 2


class RatingAgainNotAsked(DomainError):
    status, code, message = 409, "RATING_AGAIN_NOT_ASKED", "该办件未在整改后邀请再次评价，不能再次评价"


class AlreadyRatedAgain(DomainError):
    status, code, message = 409, "ALREADY_RATED_AGAIN", "该办件已再次评价，不能重复评价"


@dataclass(frozen=True)
class SecondRound:
    """What the rules need of a case to rate it again."""

    first_rating_id: UUID | None  # None: never rated
    asked: bool  # a rectification asked for it
    rated_again: bool


def may_ask(case: SecondRound) -> bool:
    """A rectification's rate_again opens the second round of a case rated once and not yet again."""
    return case.first_rating_id is not None and not case.rated_again


def can_rate_again(case: SecondRound) -> bool:
    return may_ask(case) and case.asked


def check_rateable_again(case: SecondRound) -> None:
    if case.rated_again:
        raise AlreadyRatedAgain()
    if not case.asked or case.first_rating_id is None:
        raise RatingAgainNotAsked()


def decide_second_rating(case: SecondRound, rating: Rating, channel: RatingChannel) -> list[NewEvent]:
    """The one rating of round 2, following the first."""
    check_rating(rating, channel)
    check_rateable_again(case)
    return [NewEvent(CaseRated, CaseRatedPayload(
        score=rating.score, comment=rating.comment, bad_rating=rating.score <= BAD_RATING_AT_MOST, channel=channel,
        dimensions=rating.dimensions, rating_round=SECOND_ROUND, follows_rating_id=case.first_rating_id))]
