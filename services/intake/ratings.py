"""Rating rules (好差评) through the national channels: who may rate by which channel, with what.

Pure: the use cases in `rating_commands` load the case and call `decide_rating`. The reasons for
each rule are in docs/adr/0021-rating-channels.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.envelope import Actor, NewEvent
from contracts.errors import DomainError
from contracts.events import CaseRated, CaseRatedPayload, RatingChannel, RatingDimensions

# Ratings given in person may say more than the five levels; remote ones keep to them.
IN_PERSON: frozenset[str] = frozenset({"window_pad", "village_agent"})
# The channel a token holder rates through; a role not here cannot rate by token at all.
CHANNEL_OF_ROLE: dict[str, RatingChannel] = {"window_pad": "window_pad", "village_agent": "village_agent"}
# The rated side: they may never rate on a resident's behalf.
RATED_ROLES: frozenset[str] = frozenset({"staff", "centre_head"})
# The rater is never named in the event: the staff member rated reads the case history.
ANONYMOUS_RATER = Actor(kind="resident", id="anonymous")
BAD_RATING_AT_MOST = 2  # 不满意 and 非常不满意 owe a follow-up (回访)


class StaffCannotRate(DomainError):
    status, code = 403, "STAFF_CANNOT_RATE"
    message = "工作人员无权代群众评价：请群众通过窗口评价器、短信评价链接或办件查询页自行评价"


class DimensionsNotAllowed(DomainError):
    status, code = 422, "RATING_DIMENSIONS_NOT_ALLOWED"
    message = "短信链接和办件查询页的评价只选择五级满意度，不分项评价"


class OverallMismatch(DomainError):
    status, code = 422, "RATING_OVERALL_MISMATCH"
    message = "分项评价中的整体满意度应与所选满意度一致"


class CaseNotCompleted(DomainError):
    status, code, message = 409, "CASE_NOT_COMPLETED", "办件尚未办结，暂不能评价"


class CaseAlreadyRated(DomainError):
    status, code, message = 409, "CASE_ALREADY_RATED", "该办件已评价，不能重复评价"


@dataclass(frozen=True)
class Rating:
    """What the resident said: one of the five levels, a comment, and for in-person channels the dimensions."""

    score: int
    comment: str = ""
    dimensions: RatingDimensions | None = None


@dataclass(frozen=True)
class RatedCase:
    """What the rules need to know of the case rated."""

    status: str
    rated: bool


def channel_of(role: str) -> RatingChannel:
    """The channel a token of this role rates through; staff and centre heads are refused."""
    if role in RATED_ROLES or role not in CHANNEL_OF_ROLE:
        raise StaffCannotRate()
    return CHANNEL_OF_ROLE[role]


def check_rating(rating: Rating, channel: RatingChannel) -> None:
    """The form of a rating for its channel, before anything is read."""
    if rating.dimensions is None:
        return
    if channel not in IN_PERSON:
        raise DimensionsNotAllowed()
    if rating.dimensions.overall != rating.score:
        raise OverallMismatch()


def can_rate(case: RatedCase) -> bool:
    return case.status == "completed" and not case.rated


def check_rateable(case: RatedCase) -> None:
    """Once, and only once the case is completed."""
    if case.rated:
        raise CaseAlreadyRated()
    if case.status != "completed":
        raise CaseNotCompleted()


def decide_rating(case: RatedCase, rating: Rating, channel: RatingChannel) -> list[NewEvent]:
    """One rating per completed case, through one channel."""
    check_rating(rating, channel)
    check_rateable(case)
    return [NewEvent(CaseRated, CaseRatedPayload(
        score=rating.score, comment=rating.comment, bad_rating=rating.score <= BAD_RATING_AT_MOST, channel=channel,
        dimensions=rating.dimensions))]
