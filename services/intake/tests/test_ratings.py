"""The rating rules (好差评): who may rate by which channel, with what, once, and only when completed."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.errors import DomainError
from contracts.events import CaseRated, RatingDimensions
from services.intake import ratings
from services.intake.ratings import RatedCase, Rating

pytestmark = pytest.mark.unit
DONE = RatedCase(status="completed", rated=False)


def dims(overall: int = 5, **kw) -> RatingDimensions:
    return RatingDimensions(**({"overall": overall, "efficiency": 5, "competence": 4, "attitude": 5} | kw))


def code(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize(("role", "channel"), [("window_pad", "window_pad"), ("village_agent", "village_agent")])
def test_the_pad_and_the_agent_rate_through_their_own_channel(role, channel):
    assert ratings.channel_of(role) == channel


@pytest.mark.parametrize("role", ["staff", "centre_head", "inspector", "admin"])
def test_no_one_else_rates_by_token(role):
    assert code(lambda: ratings.channel_of(role)) == "STAFF_CANNOT_RATE"


def test_a_rating_in_person_may_carry_the_four_dimensions_and_names_no_one():
    [new] = ratings.decide_rating(DONE, Rating(score=4, comment="很好", dimensions=dims(4)), "window_pad")
    assert new.type is CaseRated
    assert (new.payload.channel, new.payload.dimensions, new.payload.bad_rating) == ("window_pad", dims(4), False)
    assert ratings.ANONYMOUS_RATER.kind == "resident" and ratings.ANONYMOUS_RATER.id == "anonymous"


def test_dimensions_are_optional_in_person():
    [new] = ratings.decide_rating(DONE, Rating(score=2), "village_agent")
    assert new.payload.dimensions is None and new.payload.bad_rating is True


@pytest.mark.parametrize("channel", ["sms_link", "status_page"])
def test_remote_channels_take_the_five_levels_only(channel):
    assert code(lambda: ratings.decide_rating(DONE, Rating(score=5, dimensions=dims()), channel)) \
        == "RATING_DIMENSIONS_NOT_ALLOWED"
    [new] = ratings.decide_rating(DONE, Rating(score=5), channel)
    assert new.payload.channel == channel


def test_overall_is_the_score():
    assert code(lambda: ratings.decide_rating(DONE, Rating(score=5, dimensions=dims(3)), "window_pad")) \
        == "RATING_OVERALL_MISMATCH"


def test_once_and_only_when_completed():
    assert code(lambda: ratings.decide_rating(replace(DONE, rated=True), Rating(score=5), "sms_link")) \
        == "CASE_ALREADY_RATED"
    for status in ("received", "materials_requested", "submitted", "assigned", "rejected"):
        assert code(lambda s=status: ratings.decide_rating(RatedCase(status=s, rated=False), Rating(score=5),
                                                           "window_pad")) == "CASE_NOT_COMPLETED"


# Random sequences of attempts on one case: completion comes at some point, attempts through every
# channel and role before and after it, with and without dimensions.
ROLES = ["window_pad", "village_agent", "staff", "centre_head", "inspector"]
CHANNELS = ["sms_link", "status_page"]


@dataclass(frozen=True)
class Attempt:
    via: str  # a role (token) or a channel without a token
    score: int
    dimensions: RatingDimensions | None


def _dimensions(score: int) -> st.SearchStrategy[RatingDimensions | None]:
    level = st.integers(1, 5)
    return st.none() | st.builds(RatingDimensions, overall=st.sampled_from([score, score % 5 + 1]), efficiency=level,
                                 competence=level, attitude=level)


attempts = st.integers(1, 5).flatmap(lambda s: st.builds(Attempt, via=st.sampled_from(ROLES + CHANNELS),
                                                         score=st.just(s), dimensions=_dimensions(s)))
steps = st.lists(st.one_of(st.just("complete"), attempts), max_size=25)


def _attempt(case: RatedCase, a: Attempt) -> list:
    channel = a.via if a.via in CHANNELS else ratings.channel_of(a.via)
    return ratings.decide_rating(case, Rating(score=a.score, dimensions=a.dimensions), channel)


@given(steps)
def test_any_sequence_of_attempts_gives_at_most_one_rating_by_a_resident_channel_after_completion(sequence):
    case, accepted = RatedCase(status="assigned", rated=False), []
    for step in sequence:
        if step == "complete":
            case = replace(case, status="completed")
            continue
        try:
            [new] = _attempt(case, step)
        except DomainError as refused:
            assert refused.code in {"STAFF_CANNOT_RATE", "RATING_DIMENSIONS_NOT_ALLOWED", "RATING_OVERALL_MISMATCH",
                                    "CASE_ALREADY_RATED", "CASE_NOT_COMPLETED"}
            assert 400 <= refused.status < 500 and refused.message
            continue
        assert case.status == "completed" and not case.rated
        assert step.via not in ratings.RATED_ROLES | {"inspector"}
        assert new.payload.channel in ratings.IN_PERSON or new.payload.dimensions is None
        assert new.payload.dimensions is None or new.payload.dimensions.overall == new.payload.score
        assert new.payload.bad_rating == (new.payload.score <= 2)
        accepted.append(new)
        case = replace(case, rated=True)
    assert len(accepted) <= 1
    rateable = [s for s in sequence if s != "complete" and s.via not in ("staff", "centre_head", "inspector")
                and (s.dimensions is None or (s.via in ratings.IN_PERSON and s.dimensions.overall == s.score))]
    completed_before = "complete" in sequence and any(
        s in rateable for s in sequence[sequence.index("complete"):])
    assert bool(accepted) == completed_before  # the first well-formed attempt after completion is the rating
