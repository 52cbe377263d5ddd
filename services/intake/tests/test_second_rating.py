"""The second rating's rules (整改后再评价): once, only when a rectification asked for it, beside the first."""

from uuid import uuid4

import pytest

from contracts.events import CaseRated, RatingDimensions
from services.intake.ratings import DimensionsNotAllowed, Rating
from services.intake.second_rating import (
    AlreadyRatedAgain,
    RatingAgainNotAsked,
    SecondRound,
    can_rate_again,
    decide_second_rating,
    may_ask,
)

pytestmark = pytest.mark.unit
FIRST = uuid4()


def test_a_second_rating_follows_the_first_and_says_its_round():
    [event] = decide_second_rating(SecondRound(FIRST, asked=True, rated_again=False), Rating(score=2, comment="仍未解决"),
                                   "sms_link")
    assert event.type is CaseRated
    assert (event.payload.rating_round, event.payload.follows_rating_id) == (2, FIRST)
    assert event.payload.bad_rating and event.payload.channel == "sms_link"


@pytest.mark.parametrize(("case", "refusal"), [
    (SecondRound(FIRST, asked=False, rated_again=False), RatingAgainNotAsked),
    (SecondRound(None, asked=True, rated_again=False), RatingAgainNotAsked),
    (SecondRound(FIRST, asked=True, rated_again=True), AlreadyRatedAgain),
])
def test_without_a_rectification_asking_or_a_second_time_it_is_refused(case, refusal):
    with pytest.raises(refusal) as raised:
        decide_second_rating(case, Rating(score=4), "status_page")
    assert raised.value.status == 409 and raised.value.message


def test_only_a_case_rated_once_may_be_asked_again_and_remote_ratings_keep_to_the_levels():
    assert may_ask(SecondRound(FIRST, asked=False, rated_again=False))
    assert not may_ask(SecondRound(None, asked=False, rated_again=False))
    assert not may_ask(SecondRound(FIRST, asked=True, rated_again=True))
    assert can_rate_again(SecondRound(FIRST, asked=True, rated_again=False))
    assert not can_rate_again(SecondRound(FIRST, asked=False, rated_again=False))
    with pytest.raises(DimensionsNotAllowed):
        decide_second_rating(SecondRound(FIRST, asked=True, rated_again=False),
                             Rating(score=4, dimensions=RatingDimensions(overall=4, efficiency=4, competence=4,
                                                                         attitude=4)), "sms_link")
