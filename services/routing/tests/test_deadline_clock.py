"""The deadline clock's rules and the alerts it sets: pauses, the one extension, warnings and breaches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.events import DeadlineBreached, DeadlineWarning
from contracts.workdays import SHANGHAI, default_calendar
from services.routing import alerts, domain
from services.routing import deadline_clock as dc
from services.routing.tests.builders import case_state, stamped

pytestmark = pytest.mark.unit
CAL = default_calendar()
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)  # a plain working Monday


def local(y: int, m: int, d: int, h: int = 23, mi: int = 59, s: int = 59, us: int = 999999) -> datetime:
    return datetime(y, m, d, h, mi, s, us, tzinfo=SHANGHAI).astimezone(UTC)


def running(**overrides) -> domain.CaseState:
    """A case taken in on Monday 23 November with 5 working days: due at the end of Monday 30 November."""
    state = case_state(clock_start=MONDAY_10, limit_days=5, legal_limit_days=20, promised_deadline=local(2026, 11, 30),
                       path=("social_security",))
    return replace(state, **overrides)


def apply(state: domain.CaseState, events, at: datetime) -> domain.CaseState:
    return domain.fold(state, [stamped(e, state, occurred_at=at) for e in events])


def test_the_deadline_in_force_counts_from_the_start():
    assert dc.deadline_in_force(CAL, running().clock) == local(2026, 11, 30)


def test_a_pause_adds_the_working_days_it_stood_and_a_same_day_pause_adds_none():
    state = apply(running(), domain.decide_pause(running(), domain.PauseClock("hearing", "听证"), now=MONDAY_10),
                  MONDAY_10)
    assert state.paused and state.pause_reason == "hearing"
    with pytest.raises(dc.ClockAlreadyPaused):
        domain.decide_pause(state, domain.PauseClock("testing", "检测"), now=MONDAY_10)
    same_day = domain.decide_resume(state, now=MONDAY_10 + timedelta(hours=3), calendar=CAL)
    assert same_day[0].payload.paused_working_days == 0
    thursday = local(2026, 11, 26, 9, 0, 0, 0)  # Tue, Wed, Thu stood still
    [resumed] = domain.decide_resume(state, now=thursday, calendar=CAL)
    assert resumed.payload.paused_working_days == 3
    assert resumed.payload.promised_deadline == local(2026, 12, 3)
    state = apply(state, [resumed], thursday)
    assert not state.paused and state.paused_working_days == 3 and state.promised_deadline == local(2026, 12, 3)
    with pytest.raises(dc.ClockNotPaused):
        domain.decide_resume(state, now=thursday, calendar=CAL)


def test_a_pause_over_a_weekend_counts_only_working_days():
    friday = local(2026, 11, 27, 9, 0, 0, 0)
    monday = local(2026, 11, 30, 9, 0, 0, 0)
    assert dc.pause_credit(CAL, friday, monday) == 1  # Saturday and Sunday do not count, Monday does


def test_no_pause_and_no_extension_once_the_deadline_passed():
    late = local(2026, 12, 1, 9, 0, 0, 0)
    with pytest.raises(dc.DeadlinePassed):
        domain.decide_pause(running(), domain.PauseClock("materials", "补正"), now=late)
    with pytest.raises(dc.DeadlinePassed):
        domain.decide_extend(running(), domain.ExtendDeadline(5, "需踏勘", "qs-head"), now=late, calendar=CAL)


def test_one_extension_with_a_reason_within_the_legal_limit():
    cmd = domain.ExtendDeadline(days=15, reason=" 需现场踏勘 ", approved_by="qs-head")
    [extended] = domain.decide_extend(running(), cmd, now=MONDAY_10, calendar=CAL)
    assert extended.payload.extension_working_days == 15 and extended.payload.reason == "需现场踏勘"
    state = apply(running(), [extended], MONDAY_10)
    assert state.promised_deadline == dc.deadline_in_force(CAL, state.clock) == CAL.deadline_for(MONDAY_10, 20)
    with pytest.raises(dc.ExtensionAlreadyGranted):
        domain.decide_extend(state, domain.ExtendDeadline(1, "再延", "qs-head"), now=MONDAY_10, calendar=CAL)
    with pytest.raises(dc.ExtensionPastLegalLimit) as past:
        domain.decide_extend(running(), domain.ExtendDeadline(16, "太长", "qs-head"), now=MONDAY_10, calendar=CAL)
    assert past.value.details["most_days"] == 15
    with pytest.raises(dc.ExtensionPastLegalLimit):  # a legal limit unknown: no extension at all
        domain.decide_extend(running(legal_limit_days=None), domain.ExtendDeadline(1, "理由", "qs-head"),
                             now=MONDAY_10, calendar=CAL)
    with pytest.raises(dc.ExtensionReasonRequired):
        domain.decide_extend(running(), domain.ExtendDeadline(1, "  ", "qs-head"), now=MONDAY_10, calendar=CAL)


def test_a_case_decided_while_paused_has_the_pause_counted():
    paused = running(paused_since=local(2026, 11, 30, 9, 0, 0, 0), pause_reason="appraisal")
    thursday = local(2026, 12, 3, 10, 0, 0, 0)  # past the original deadline, but it stood three days
    [done] = domain.decide_complete(paused, domain.CompleteCase("granted", ""), now=thursday, calendar=CAL)
    assert done.payload.on_time is True
    [late] = domain.decide_complete(running(), domain.CompleteCase("granted", ""), now=thursday, calendar=CAL)
    assert late.payload.on_time is False


def test_warning_on_the_morning_of_the_last_working_day_or_earlier_per_township():
    deadline = local(2026, 11, 30)  # a Monday
    assert alerts.timers_for("case", deadline=deadline, start=MONDAY_10, deadline_kind="case", subject="x",
                             calendar=CAL, warning_days=1)[0].due_at == local(2026, 11, 30, 8, 0, 0, 0)
    two = dc.warning_at(CAL, deadline, working_days=2)
    assert two == local(2026, 11, 27, 8, 0, 0, 0)  # Friday: the weekend between does not count


def test_no_warning_when_its_time_is_before_the_start():
    same_day = alerts.timers_for("case", deadline=local(2026, 11, 23), start=MONDAY_10, deadline_kind="case",
                                 subject="x", calendar=CAL, warning_days=1)
    assert [t.kind for t in same_day] == ["breach"]


def test_alerts_fire_once_each_and_never_a_warning_after_its_breach():
    state = running()
    warning, breach = alerts.case_timers(state, calendar=CAL, warning_days=1)
    assert alerts.decide_alert(state, breach, now=state.promised_deadline) == []  # not yet past
    [warned] = alerts.decide_alert(state, warning, now=warning.due_at)
    assert warned.type is DeadlineWarning and warned.payload.deadline_kind == "case"
    state = apply(state, [warned], warning.due_at)
    assert alerts.decide_alert(state, warning, now=warning.due_at) == []
    later = state.promised_deadline + timedelta(seconds=1)
    [breached] = alerts.decide_alert(state, breach, now=later)
    assert breached.type is DeadlineBreached and breached.payload.staff_id == state.staff_id
    state = apply(state, [breached], later)
    assert state.breached_at == later and alerts.decide_alert(state, breach, now=later) == []
    assert alerts.case_timers(state, calendar=CAL, warning_days=1) == []
    unwarned = running(breached_keys=("case",))
    assert alerts.decide_alert(unwarned, warning, now=later) == []


def test_no_alert_while_paused_or_closed_or_for_a_deadline_since_moved():
    warning, breach = alerts.case_timers(running(), calendar=CAL, warning_days=1)
    after = running().promised_deadline + timedelta(hours=1)
    assert alerts.decide_alert(running(paused_since=MONDAY_10), breach, now=after) == []
    assert alerts.decide_alert(running(status="completed"), breach, now=after) == []
    assert alerts.decide_alert(running(promised_deadline=local(2026, 12, 3)), breach, now=after) == []
    assert alerts.case_timers(running(paused_since=MONDAY_10), calendar=CAL, warning_days=1) == []


def test_the_workbench_light():
    before = local(2026, 11, 27, 12, 0, 0, 0)
    assert alerts.colour(running(), now=before, calendar=CAL, warning_days=1) == "green"
    assert alerts.colour(running(), now=before, calendar=CAL, warning_days=2) == "yellow"
    assert alerts.colour(running(), now=local(2026, 11, 30, 9, 0, 0, 0), calendar=CAL, warning_days=1) == "yellow"
    assert alerts.colour(running(), now=local(2026, 12, 1, 9, 0, 0, 0), calendar=CAL, warning_days=1) == "red"
    assert alerts.colour(running(paused_since=MONDAY_10), now=local(2026, 12, 1, 9, 0, 0, 0), calendar=CAL,
                         warning_days=1) == "green"


def test_a_provisional_deadline_is_recounted_only_when_something_changed():
    assert domain.decide_recount(running(), calendar=CAL) == []  # not provisional
    stale = running(deadline_provisional=True, promised_deadline=local(2026, 12, 2))
    [recounted] = domain.decide_recount(stale, calendar=CAL)
    assert recounted.payload.previous_deadline == local(2026, 12, 2)
    assert recounted.payload.promised_deadline == local(2026, 11, 30) and not recounted.payload.deadline_provisional


def test_a_breach_timer_is_due_only_once_the_breach_itself_is():
    _, breach = alerts.case_timers(running(), calendar=CAL, warning_days=1)
    assert breach.due_at > running().promised_deadline  # a scan at the deadline's last microsecond finds nothing
    [breached] = alerts.decide_alert(running(), breach, now=breach.due_at)
    assert breached.type is DeadlineBreached
