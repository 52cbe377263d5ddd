"""Pure rules of the bad-rating loop: opening, the visit, the rectification, the appeal and its decision, the
two deadlines' alerts and the light."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.envelope import Actor, NewEvent, new_event_id
from contracts.events import CaseRated, CaseRatedPayload, DeadlineBreached, DeadlineWarning
from contracts.rating_events import (
    FOLLOW_UP_RECTIFICATION,
    FOLLOW_UP_VISIT,
    FollowUpOpened,
    FollowUpRecorded,
    RatingAppealDecided,
    RatingAppealed,
    RectificationRecorded,
)
from contracts.workdays import default_calendar
from services.routing import follow_up as fu
from services.routing.follow_up import FollowUpLimits, FollowUpState, Rectification, Visit
from services.routing.settings import RoutingSettings
from services.routing.tests.builders import case_state

pytestmark = pytest.mark.unit
CALENDAR = default_calendar()
RATED_AT = datetime(2026, 11, 23, 2, tzinfo=UTC)  # Monday 10:00 in Shanghai
OWNER, HEAD, DEPUTY = "qs-social_security-01", "qs-head", "qs-deputy-head"
CASE = case_state(status="completed")
VISIT = Visit(reached=True, means="phone", resident_said="材料被要求重复提交", complaint_holds=True)
FIX = Rectification(measures="已公示材料清单", evidence=("整改通知〔2026〕3号", "  "), answer_to_resident="已整改，感谢监督",
                    rate_again=True)


def rating(score: int, *, round_: int = 1) -> CaseRated:
    return CaseRated(event_id=new_event_id(), schema_version="1.2", occurred_at=RATED_AT, source="intake",
                     case_id=CASE.case_id, stream_version=3, township_id="qingshui",
                     actor=Actor(kind="resident", id="rating-link"), correlation_id=CASE.case_id,
                     payload=CaseRatedPayload(score=score, bad_rating=score <= 2, rating_round=round_))


def stamp(new: NewEvent, at: datetime = RATED_AT):
    return new.type(event_id=new_event_id(), schema_version=new.type.SCHEMA_VERSION, occurred_at=at, source="routing",
                    case_id=CASE.case_id, stream_version=4, township_id="qingshui",
                    actor=Actor(kind="system", id="routing"), correlation_id=CASE.case_id, payload=new.payload)


DEFAULT_LIMITS = FollowUpLimits()


def opened(score: int = 2, limits: FollowUpLimits = DEFAULT_LIMITS) -> FollowUpState:
    event = rating(score)
    [new] = fu.decide_open(CASE, event, owner=OWNER, limits=limits, calendar=CALENDAR)
    return fu.opened(stamp(new), CASE, rated_at=event.occurred_at)


def step(state: FollowUpState, events: list[NewEvent], at: datetime = RATED_AT) -> FollowUpState:
    for new in events:
        state = fu.evolve(state, stamp(new, at))
    return state


def visited(state: FollowUpState | None = None) -> FollowUpState:
    state = state or opened()
    return step(state, fu.decide_visit(state, VISIT, staff_id=OWNER, now=RATED_AT))


def test_a_bad_rating_opens_a_follow_up_due_in_working_days_and_a_good_one_nothing():
    for score in (1, 2):
        [new] = fu.decide_open(CASE, rating(score, round_=2), owner=OWNER, limits=FollowUpLimits(), calendar=CALENDAR)
        assert new.type is FollowUpOpened
        p = new.payload
        assert (p.score, p.rating_round, p.owner_staff_id, p.department_code, p.case_no) == (
            score, 2, OWNER, CASE.department_code, CASE.case_no)
        # One working day: end of Tuesday; five: end of the next Monday (the weekend not counted), Shanghai time.
        assert p.visit_due == datetime(2026, 11, 24, 15, 59, 59, 999999, tzinfo=UTC)
        assert p.rectification_due == datetime(2026, 11, 30, 15, 59, 59, 999999, tzinfo=UTC)
        assert (p.visit_limit_days, p.rectification_limit_days) == (1, 5)
    for score in (3, 4, 5):
        assert fu.decide_open(CASE, rating(score), owner=OWNER, limits=FollowUpLimits(), calendar=CALENDAR) == []
    state = opened(limits=FollowUpLimits(visit_days=3, rectification_days=15))
    assert state.visit_due == datetime(2026, 11, 26, 15, 59, 59, 999999, tzinfo=UTC)
    assert (state.stage, state.next_due, state.closed) == ("visit", state.visit_due, False)


def test_the_owner_is_who_completed_the_case_else_its_holder_else_the_centre_head():
    assert fu.owner_of(completed_by="a", holder="b", centre_head="h") == "a"
    assert fu.owner_of(completed_by=None, holder="b", centre_head="h") == "b"
    assert fu.owner_of(completed_by=None, holder=None, centre_head="h") == "h"


@pytest.mark.parametrize(("env", "value"), [("ROUTING_FOLLOW_UP_VISIT_DAYS", "0"), ("ROUTING_FOLLOW_UP_VISIT_DAYS", "6"),
                                            ("ROUTING_FOLLOW_UP_RECTIFICATION_DAYS", "4"),
                                            ("ROUTING_FOLLOW_UP_RECTIFICATION_DAYS", "16")])
def test_limits_out_of_the_county_range_refuse_to_start(monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError, match=env.removeprefix("ROUTING_").lower()):
        RoutingSettings()


def test_limits_in_range_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ROUTING_FOLLOW_UP_VISIT_DAYS", "5")
    monkeypatch.setenv("ROUTING_FOLLOW_UP_RECTIFICATION_DAYS", "15")
    settings = RoutingSettings()
    assert (settings.follow_up_visit_days, settings.follow_up_rectification_days) == (5, 15)


def test_only_the_owner_or_a_centre_head_acts():
    state = opened()
    fu.check_may_act(state, caller_id=OWNER, caller_is_head=False)
    fu.check_may_act(state, caller_id=HEAD, caller_is_head=True)
    with pytest.raises(fu.NotFollowUpOwner) as refused:
        fu.check_may_act(state, caller_id="qs-social_security-02", caller_is_head=False)
    assert refused.value.status == 403


def test_the_visit_is_recorded_once_on_time_or_late_and_its_finding_must_fit_the_contact():
    state = opened()
    [new] = fu.decide_visit(state, VISIT, staff_id=OWNER, now=state.visit_due)
    assert new.type is FollowUpRecorded and new.payload.on_time and new.payload.complaint_holds is True
    [late] = fu.decide_visit(state, VISIT, staff_id=OWNER, now=state.visit_due + timedelta(microseconds=1))
    assert late.payload.on_time is False
    unreached = Visit(reached=False, means="phone", resident_said="", complaint_holds=None)
    assert fu.decide_visit(state, unreached, staff_id=OWNER, now=RATED_AT)[0].payload.reached is False
    with pytest.raises(fu.VisitFindingRequired):
        fu.decide_visit(state, replace(VISIT, resident_said="  "), staff_id=OWNER, now=RATED_AT)
    with pytest.raises(fu.VisitFindingRequired):
        fu.decide_visit(state, replace(VISIT, complaint_holds=None), staff_id=OWNER, now=RATED_AT)
    with pytest.raises(fu.FindingWithoutContact):
        fu.decide_visit(state, replace(unreached, complaint_holds=False), staff_id=OWNER, now=RATED_AT)
    done = visited(state)
    assert (done.stage, done.next_due, done.visited_by, done.visit_on_time) == (
        "rectification", done.rectification_due, OWNER, True)
    with pytest.raises(fu.VisitAlreadyRecorded) as again:
        fu.decide_visit(done, VISIT, staff_id=OWNER, now=RATED_AT)
    assert again.value.status == 409


def test_the_rectification_comes_after_the_visit_once_and_closes_the_follow_up():
    with pytest.raises(fu.VisitFirst) as first:
        fu.decide_rectification(opened(), FIX, staff_id=OWNER, now=RATED_AT)
    assert (first.value.status, first.value.code) == (409, "VISIT_FIRST")
    state = visited()
    with pytest.raises(fu.RectificationIncomplete):
        fu.decide_rectification(state, replace(FIX, answer_to_resident=" "), staff_id=OWNER, now=RATED_AT)
    [new] = fu.decide_rectification(state, FIX, staff_id=OWNER, now=state.rectification_due + timedelta(hours=1))
    assert new.type is RectificationRecorded and new.payload.on_time is False
    assert new.payload.evidence == ["整改通知〔2026〕3号"] and new.payload.rate_again is True
    done = step(state, [new])
    assert (done.stage, done.closed, done.next_due) == ("done", True, None)
    with pytest.raises(fu.RectificationAlreadyRecorded):
        fu.decide_rectification(done, FIX, staff_id=OWNER, now=RATED_AT)
    with pytest.raises(fu.AlreadyRectified):
        fu.decide_appeal(done, ground="malicious", reason="恶意差评", appellant_id=OWNER)


def test_an_appeal_by_the_owner_once_decided_once_by_another_centre_head():
    state = opened()
    with pytest.raises(fu.NotAppealed):
        fu.decide_appeal_decision(state, upheld=True, reason="属实", head_id=HEAD)
    with pytest.raises(fu.NotFollowUpOwner):
        fu.decide_appeal(state, ground="about_the_law", reason="政策本身", appellant_id=HEAD)
    with pytest.raises(fu.ReasonRequired):
        fu.decide_appeal(state, ground="about_the_law", reason="  ", appellant_id=OWNER)
    [new] = fu.decide_appeal(state, ground="about_the_law", reason="对政策标准不满", appellant_id=OWNER)
    assert new.type is RatingAppealed and new.payload.appellant_staff_id == OWNER
    appealed = step(state, [new])
    with pytest.raises(fu.AppealAlreadyMade) as twice:
        fu.decide_appeal(appealed, ground="other", reason="再次申诉", appellant_id=OWNER)
    assert twice.value.code == "APPEAL_ALREADY_MADE"
    with pytest.raises(fu.AppellantCannotDecide) as own:
        fu.decide_appeal_decision(appealed, upheld=True, reason="属实", head_id=OWNER)
    assert own.value.status == 403
    [decided] = fu.decide_appeal_decision(appealed, upheld=True, reason="差评针对政策", head_id=HEAD)
    assert decided.type is RatingAppealDecided and decided.payload.appellant_staff_id == OWNER
    upheld = step(appealed, [decided])
    with pytest.raises(fu.AppealAlreadyDecided):
        fu.decide_appeal_decision(upheld, upheld=False, reason="改判", head_id=DEPUTY)
    # Upheld: no rectification owed (nor allowed), the visit still is.
    assert fu.pending_keys(upheld) == [FOLLOW_UP_VISIT] and upheld.stage == "visit"
    assert visited(upheld).closed
    with pytest.raises(fu.AppealUpheld):
        fu.decide_rectification(visited(upheld), FIX, staff_id=OWNER, now=RATED_AT)


def test_a_dismissed_appeal_leaves_the_rectification_owed():
    state = opened()
    state = step(state, fu.decide_appeal(state, ground="malicious", reason="恶意", appellant_id=OWNER))
    state = visited(step(state, fu.decide_appeal_decision(state, upheld=False, reason="投诉属实", head_id=HEAD)))
    assert state.stage == "rectification" and not state.closed
    assert fu.decide_rectification(state, FIX, staff_id=OWNER, now=RATED_AT)


def test_each_step_owed_has_its_warning_and_breach_until_it_is_done():
    state = opened(limits=FollowUpLimits(visit_days=2, rectification_days=5))
    timers = fu.follow_up_timers(state, calendar=CALENDAR, warning_days=1)
    assert {(t.deadline_key, t.kind) for t in timers} == {
        (FOLLOW_UP_VISIT, "warning"), (FOLLOW_UP_VISIT, "breach"),
        (FOLLOW_UP_RECTIFICATION, "warning"), (FOLLOW_UP_RECTIFICATION, "breach")}
    assert {t.deadline_kind for t in timers} == {"follow_up"}
    assert {t.subject for t in timers} == {"差评回访", "差评整改"}
    assert {t.deadline_key for t in fu.follow_up_timers(visited(state), calendar=CALENDAR, warning_days=1)} == {
        FOLLOW_UP_RECTIFICATION}


def test_an_alert_fires_once_to_the_owner_while_its_step_is_owed():
    state = opened()
    [warn, breach] = [t for t in fu.follow_up_timers(state, calendar=CALENDAR, warning_days=1)
                      if t.deadline_key == FOLLOW_UP_VISIT]
    assert fu.decide_alert(state, breach, now=state.visit_due) == []  # not before the deadline has passed
    [alert] = fu.decide_alert(state, warn, now=warn.due_at)
    assert alert.type is DeadlineWarning
    p = alert.payload
    assert (p.staff_id, p.case_no, p.deadline_kind, p.deadline_key, p.subject) == (
        OWNER, CASE.case_no, "follow_up", FOLLOW_UP_VISIT, "差评回访")
    warned = step(state, [alert])
    assert fu.decide_alert(warned, warn, now=warn.due_at) == []
    late = breach.due_at
    assert fu.decide_alert(state, warn, now=late) == []  # its breach comes instead
    [breached] = fu.decide_alert(warned, breach, now=late)
    assert breached.type is DeadlineBreached
    assert fu.decide_alert(step(warned, [breached]), breach, now=late) == []
    assert fu.decide_alert(visited(state), breach, now=late) == []  # visited: nothing owed


def test_the_light_and_the_order_of_urgency():
    state = opened()
    early, warned_time, late = RATED_AT, fu.dc.warning_at(CALENDAR, state.visit_due, working_days=1), \
        state.visit_due + timedelta(seconds=1)
    light = [fu.colour(state, now=t, calendar=CALENDAR, warning_days=1) for t in (early, warned_time, late)]
    assert light == ["green", "yellow", "red"]
    assert fu.colour(replace(state, breached_keys=(FOLLOW_UP_VISIT,)), now=early, calendar=CALENDAR,
                     warning_days=1) == "red"
    green = replace(state, case_no="B", visit_due=state.visit_due + timedelta(days=7))
    red = replace(state, case_no="C", visit_due=RATED_AT - timedelta(seconds=1))
    ranked = sorted([green, state, red], key=lambda s: fu.urgency(s, now=early, calendar=CALENDAR, warning_days=1))
    assert [s.case_no for s in ranked] == ["C", CASE.case_no, "B"]
