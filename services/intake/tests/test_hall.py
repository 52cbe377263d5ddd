"""The hall's ticket rules: issued → called → started → ended; called → ended no_show; today's tickets only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.events import ServiceEnded, ServiceStarted, TicketCalled, TicketIssued
from services.intake import hall

pytestmark = pytest.mark.unit

# 09:00 in Asia/Shanghai on Monday 23 November 2026.
NINE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
ISSUED = hall.Ticket(ticket_no="B007", queue="social_security", day=hall.service_day(NINE), status="issued",
                     issued_at=NINE)
CALLED = replace(ISSUED, status="called", window_no="3")
STARTED = replace(CALLED, status="started", started_at=NINE + timedelta(minutes=12))


def test_a_ticket_belongs_to_the_day_in_shanghai():
    assert hall.service_day(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)).isoformat() == "2026-11-23"
    assert hall.service_day(datetime(2026, 11, 22, 15, 59, tzinfo=UTC)).isoformat() == "2026-11-22"


def test_queue_letters_and_numbers():
    assert hall.queue_letter(hall.GENERAL_WINDOW, ["B"]) == "A"
    assert hall.queue_letter("civil_affairs", []) == "B"
    assert hall.queue_letter("veterans", ["A", "B", "D"]) == "C"
    with pytest.raises(hall.QueuesFull):
        hall.queue_letter("one_too_many", hall.QUEUE_LETTERS)
    assert hall.ticket_no("B", 7) == "B007" and hall.ticket_no("A", 1234) == "A1234"


def test_issue_says_the_number_queue_and_time():
    [event] = hall.decide_issue(queue="social_security", number="B007", now=NINE)
    assert event.type is TicketIssued
    assert (event.payload.ticket_no, event.payload.queue, event.payload.issued_at) == ("B007", "social_security", NINE)


def test_a_whole_service_counts_wait_and_service_seconds():
    [called] = hall.decide_call(ISSUED, window_no="3", staff_id="s1", now=NINE + timedelta(minutes=10))
    assert called.type is TicketCalled
    assert (called.payload.wait_seconds, called.payload.recall, called.payload.window_no) == (600, False, "3")
    [again] = hall.decide_recall(CALLED, window_no="3", staff_id="s1", now=NINE + timedelta(minutes=11))
    assert (again.payload.wait_seconds, again.payload.recall) == (660, True)
    [started] = hall.decide_start(CALLED, window_no="3", staff_id="s1", now=NINE + timedelta(minutes=12))
    assert started.type is ServiceStarted and started.payload.wait_seconds == 720
    case_id = uuid4()
    [ended] = hall.decide_end(STARTED, window_no="3", outcome="served", case_ids=[case_id],
                              now=NINE + timedelta(minutes=19, seconds=30))
    assert ended.type is ServiceEnded
    assert (ended.payload.outcome, ended.payload.service_seconds, ended.payload.case_ids) == ("served", 450, [case_id])


def test_a_called_ticket_nobody_came_for_ends_as_no_show():
    [ended] = hall.decide_end(CALLED, window_no="3", outcome="no_show", case_ids=[], now=NINE + timedelta(minutes=15))
    assert (ended.payload.outcome, ended.payload.service_seconds) == ("no_show", 0)
    with pytest.raises(hall.CasesOfNoShow):
        hall.decide_end(CALLED, window_no="3", outcome="no_show", case_ids=[uuid4()], now=NINE)


@pytest.mark.parametrize(("ticket", "step", "error"), [
    (CALLED, "call", hall.TicketNotWaiting),  # called already: recall it instead
    (ISSUED, "recall", hall.TicketNotCalled),
    (STARTED, "recall", hall.TicketNotCalled),
    (ISSUED, "start", hall.TicketNotCalled),
    (STARTED, "start", hall.TicketNotCalled),
    (ISSUED, "served", hall.TicketNotCalled),
    (ISSUED, "no_show", hall.TicketNotCalled),
    (CALLED, "served", hall.TicketNotStarted),  # served only after service started
    (STARTED, "no_show", hall.TicketNotCalled),  # a resident at the window is no no-show
    (replace(STARTED, status="ended"), "call", hall.TicketAlreadyEnded),
    (replace(STARTED, status="ended"), "start", hall.TicketAlreadyEnded),
    (replace(STARTED, status="ended"), "served", hall.TicketAlreadyEnded),
])
def test_bad_transitions_are_refused_with_their_code(ticket, step, error):
    with pytest.raises(error) as refused:
        _do(ticket, step, window_no="3", now=NINE + timedelta(hours=1))
    assert refused.value.status in (404, 409, 422) and refused.value.code.isupper()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)  # Chinese, for the window


@pytest.mark.parametrize("step", ["recall", "start", "served", "no_show"])
def test_only_the_window_that_called_goes_on(step):
    ticket = STARTED if step == "served" else CALLED
    with pytest.raises(hall.TicketAtOtherWindow):
        _do(ticket, step, window_no="5", now=NINE + timedelta(hours=1))


@pytest.mark.parametrize(("ticket", "step"), [(ISSUED, "call"), (CALLED, "recall"), (CALLED, "start")])
def test_a_ticket_of_another_day_cannot_be_called_or_served(ticket, step):
    with pytest.raises(hall.TicketNotToday):
        _do(ticket, step, window_no="3", now=NINE + timedelta(days=1))


def test_a_service_begun_before_midnight_may_end_after_it():
    [ended] = hall.decide_end(STARTED, window_no="3", outcome="served", case_ids=[], now=NINE + timedelta(days=1))
    assert ended.payload.service_seconds == 24 * 3600 - 12 * 60


def test_a_clock_set_back_never_gives_negative_seconds():
    [called] = hall.decide_call(ISSUED, window_no="3", staff_id="s1", now=NINE - timedelta(minutes=1))
    assert called.payload.wait_seconds == 0


def _do(ticket: hall.Ticket, step: str, *, window_no: str, now: datetime):
    if step == "call":
        return hall.decide_call(ticket, window_no=window_no, staff_id="s1", now=now)
    if step == "recall":
        return hall.decide_recall(ticket, window_no=window_no, staff_id="s1", now=now)
    if step == "start":
        return hall.decide_start(ticket, window_no=window_no, staff_id="s1", now=now)
    return hall.decide_end(ticket, window_no=window_no, outcome=step, case_ids=[], now=now)
