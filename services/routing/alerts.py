"""Warnings (黄灯) and breaches (红灯) of a case's deadlines: when each falls due, and whether it still fires.

A case has several deadlines, each with a key: the case itself (`case`), each tolerated material owed
(`material:<code>`), a complaint's answer (`complaint`), a bad rating's visit and rectification
(`follow_up:visit`, `follow_up:rectification`: follow_up.py). Each gets at most
one DeadlineWarning and one DeadlineBreached, ever: the keys already fired are part of the case's
state, and the timers that make them fire on time live in PostgreSQL (timers_store.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from contracts.envelope import NewEvent
from contracts.events import DeadlineBreached, DeadlineKind, DeadlinePayload, DeadlineWarning
from contracts.workdays import WorkingCalendar
from services.routing import deadline_clock as dc
from services.routing.domain import CaseState

AlertKind = Literal["warning", "breach"]
CASE_KEY = "case"
BREACH_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True)
class Timer:
    """One alert that falls due at `due_at`, about the deadline `deadline`."""

    deadline_key: str
    kind: AlertKind
    due_at: datetime
    deadline: datetime
    deadline_kind: DeadlineKind
    subject: str


@dataclass(frozen=True)
class AlertPolicy:
    """The calendar deadlines are counted on, and how many working days ahead each township is warned."""

    calendar: WorkingCalendar
    warning_days: int = 1
    by_township: Mapping[str, int] = field(default_factory=dict)

    def warning_days_for(self, township_id: str) -> int:
        return self.by_township.get(township_id, self.warning_days)


def material_key(code: str) -> str:
    return f"material:{code}"


def timers_for(key: str, *, deadline: datetime, start: datetime, deadline_kind: DeadlineKind, subject: str,
               calendar: WorkingCalendar, warning_days: int) -> list[Timer]:
    """The warning (unless its time is already behind the deadline's start) and the breach of one deadline."""
    timers = []
    warn_at = dc.warning_at(calendar, deadline, working_days=warning_days)
    if start < warn_at <= deadline:
        timers.append(Timer(key, "warning", warn_at, deadline, deadline_kind, subject))
    # A breach is after the deadline, which ends at the last microsecond of its day: the timer is due
    # the microsecond after, so that a scan finding it due always finds the breach due too.
    timers.append(Timer(key, "breach", deadline + BREACH_AFTER, deadline, deadline_kind, subject))
    return timers


def case_timers(state: CaseState, *, calendar: WorkingCalendar, warning_days: int) -> list[Timer]:
    """The case deadline's timers while the case is open and its clock runs; none once fired."""
    if state.status != "assigned" or state.paused:
        return []
    start = state.clock_start or state.promised_deadline
    return [t for t in timers_for(CASE_KEY, deadline=state.promised_deadline, start=start, deadline_kind="case",
                                  subject=state.item_name, calendar=calendar, warning_days=warning_days)
            if not fired(state, t.deadline_key, t.kind)]


def fired(state: CaseState, key: str, kind: AlertKind) -> bool:
    return key in (state.warned_keys if kind == "warning" else state.breached_keys)


def decide_alert(state: CaseState, timer: Timer, *, now: datetime) -> list[NewEvent]:
    """The warning or breach a due timer stands for, if it still applies.

    Nothing for a closed case, a case deadline whose clock is paused, an alert already given, a breach
    before its deadline has passed, or a warning whose breach came first (a warning is never after it).
    """
    if state.status != "assigned" or fired(state, timer.deadline_key, timer.kind):
        return []
    if timer.deadline_key == CASE_KEY and (state.paused or timer.deadline != state.promised_deadline):
        return []  # the clock moved since the timer was set: the current timers stand for the deadline in force
    if timer.kind == "breach" and now <= timer.deadline:
        return []
    if timer.kind == "warning" and (fired(state, timer.deadline_key, "breach") or now > timer.deadline):
        return []
    return [alert(timer, department_code=state.department_code, staff_id=state.staff_id, case_no=state.case_no,
                  now=now)]


def alert(timer: Timer, *, department_code: str, staff_id: str | None, case_no: str, now: datetime) -> NewEvent:
    payload = DeadlinePayload(department_code=department_code, staff_id=staff_id, promised_deadline=timer.deadline,
                              detected_at=now, deadline_kind=timer.deadline_kind, deadline_key=timer.deadline_key,
                              case_no=case_no, subject=timer.subject[:200])
    return NewEvent(DeadlineWarning if timer.kind == "warning" else DeadlineBreached, payload)


def colour(state: CaseState, *, now: datetime, calendar: WorkingCalendar, warning_days: int) -> str:
    """The workbench's light: red when late, yellow once the warning time is reached, green otherwise."""
    if state.status == "completed":
        return "red" if state.on_time is False else "green"
    if state.breached_keys or (not state.paused and now > state.promised_deadline):
        return "red"
    if state.warned_keys:
        return "yellow"
    if not state.paused and now >= dc.warning_at(calendar, state.promised_deadline, working_days=warning_days):
        return "yellow"
    return "green"
