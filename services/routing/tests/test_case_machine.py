"""Random sequences of staff actions and passing time against one case, with its timers fired as the
database would fire them; the invariants must hold after every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contracts.errors import DomainError
from contracts.events import CaseCompleted, DeadlineBreached, DeadlineWarning
from contracts.workdays import default_calendar
from services.routing import alerts, domain
from services.routing import deadline_clock as dc
from services.routing.tests.builders import stamped
from services.routing.tests.test_deadline_clock import running

pytestmark = pytest.mark.unit
CAL = default_calendar()
DEPARTMENTS = ("social_security", "civil_affairs", "medical_insurance")
# Far enough from the year's end that no pause or extension reaches a year the calendar may not know.
START = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)  # Monday 3 August, 10:00 in Shanghai
LAST_MOMENT = START + timedelta(days=45)


class CaseMachine(RuleBasedStateMachine):
    @initialize(warning_days=st.integers(1, 3))
    def open_case(self, warning_days: int) -> None:
        self.now: datetime = START
        self.warning_days = warning_days
        self.state = running(clock_start=START, promised_deadline=CAL.deadline_for(START, 5))
        self.timers: dict[tuple[str, str], alerts.Timer] = {}
        self.fired: set[tuple[str, str]] = set()
        self.alerts: list[tuple[str, str]] = []  # (event type, deadline key), in order
        self.completed_on_time: bool | None = None
        self._sync()

    def _apply(self, events) -> None:
        for new in events:
            event = stamped(new, self.state, occurred_at=self.now)
            if isinstance(event, (DeadlineWarning, DeadlineBreached)):
                self.alerts.append((event.event_type, event.payload.deadline_key))
            if isinstance(event, CaseCompleted):
                self.completed_on_time = event.payload.on_time
            self.state = domain.evolve(self.state, event)
        self._sync()

    def _sync(self) -> None:
        """As commands._save: the case deadline's unfired timers follow the clock; none once it is closed."""
        wanted = {(t.deadline_key, t.kind): t for t in alerts.case_timers(
            self.state, calendar=CAL, warning_days=self.warning_days)}
        self.timers = {k: t for k, t in self.timers.items() if k in self.fired} | {
            k: t for k, t in wanted.items() if k not in self.fired}

    def _try(self, decide) -> None:
        try:
            events = decide()
        except DomainError:
            return  # refused: nothing changes
        self._apply(events)

    @rule(hours=st.integers(1, 60))
    def time_passes(self, hours: int) -> None:
        self.now = min(self.now + timedelta(hours=hours), LAST_MOMENT)
        for key, timer in sorted(self.timers.items(), key=lambda kv: kv[1].due_at):
            if key not in self.fired and timer.due_at <= self.now and key in self.timers:
                self.fired.add(key)
                self._apply(alerts.decide_alert(self.state, self.timers[key], now=self.now))

    @rule(staff=st.sampled_from([None, "a", "b"]))
    def reassign(self, staff: str | None) -> None:
        self._try(lambda: domain.decide_reassign(self.state, staff_id=staff, reason="handover"))

    @rule(department=st.sampled_from(DEPARTMENTS), staff=st.sampled_from([None, "c"]))
    def transfer(self, department: str, staff: str | None) -> None:
        self._try(lambda: domain.decide_transfer(self.state, domain.TransferCase(department, "理由"),
                                                 target=domain.Department(department, department), staff_id=staff))

    @rule(reason=st.sampled_from(["materials", "hearing", "expert_review"]))
    def pause(self, reason) -> None:
        self._try(lambda: domain.decide_pause(self.state, domain.PauseClock(reason, "等待"), now=self.now))

    @rule()
    def resume(self) -> None:
        self._try(lambda: domain.decide_resume(self.state, now=self.now, calendar=CAL))

    @rule(days=st.integers(1, 25))
    def extend(self, days: int) -> None:
        self._try(lambda: domain.decide_extend(self.state, domain.ExtendDeadline(days, "理由", "head"), now=self.now,
                                               calendar=CAL))

    @rule(result=st.sampled_from(["granted", "refused"]))
    def complete(self, result) -> None:
        self._try(lambda: domain.decide_complete(self.state, domain.CompleteCase(result, "理由"), now=self.now,
                                                 calendar=CAL))

    @invariant()
    def one_holder_at_a_time(self) -> None:
        assert (self.state.staff_id is None) == self.state.held_by_general_window

    @invariant()
    def deadline_never_past_the_legal_limit(self) -> None:
        assert self.state.promised_deadline <= dc.legal_deadline(CAL, self.state.clock)
        assert self.state.extension_days in (0, *range(1, 16))  # 5 promised + at most 15 = legal 20

    @invariant()
    def each_alert_at_most_once_and_every_warning_before_its_breach(self) -> None:
        assert len(self.alerts) == len(set(self.alerts))
        kinds = [kind for kind, _ in self.alerts]
        if "DeadlineWarning" in kinds and "DeadlineBreached" in kinds:
            assert kinds.index("DeadlineWarning") < kinds.index("DeadlineBreached")

    @invariant()
    def never_a_breach_for_a_case_completed_in_time(self) -> None:
        if self.completed_on_time:
            assert ("DeadlineBreached", "case") not in self.alerts

    @invariant()
    def a_breach_only_after_the_deadline_in_force(self) -> None:
        if ("DeadlineBreached", "case") in self.alerts and self.state.status == "assigned":
            assert not self.state.paused and self.now > self.state.promised_deadline


CaseMachine.TestCase.settings = hyp_settings(max_examples=150, stateful_step_count=30, deadline=None)
TestCaseMachine = CaseMachine.TestCase
