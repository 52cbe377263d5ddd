"""Routing's deadline clock in intake's case progress, the status page's words for it, and the provisional
mark on the receipt: pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import (
    CaseCompleted,
    CaseCompletedPayload,
    ClockPaused,
    ClockPausedPayload,
    ClockResumed,
    ClockResumedPayload,
    DeadlineBreached,
    DeadlineBreachedPayload,
    DeadlineExtended,
    DeadlineExtendedPayload,
    DeadlineRecalculated,
    DeadlineRecalculatedPayload,
    ToleratedMaterialDuePayload,
)
from contracts.workdays import PROVISIONAL_MARK, WorkingCalendar
from services.intake import application, domain
from services.intake.case_status import OwedMaterial, StatusFacts, deadline_text, due_text, pause_text, summary
from services.intake.catalogue_file import load_catalogue
from services.intake.document_data import fold
from services.intake.documents import render_receipt
from services.intake.service_halls import hall_of
from services.intake.settings import IntakeSettings
from services.intake.tests.document_events import NAMES, pdf_text, stream, submitted
from services.intake.tests.document_events import tolerated_due as tolerated_due_payload

pytestmark = pytest.mark.unit
PROMISED = datetime(2027, 1, 8, 15, 59, 59, 999999, tzinfo=UTC)
LATER = datetime(2027, 1, 13, 15, 59, 59, 999999, tzinfo=UTC)


def _event(cls, payload, version: int):
    case_id = new_event_id()
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime(2026, 12, 28, 2, tzinfo=UTC),
               source="routing", case_id=case_id, stream_version=version, township_id="qingshui",
               actor=Actor(kind="staff", id="s1"), correlation_id=case_id, payload=payload)


def _progress(**overrides) -> domain.CaseProgress:
    fields = dict(status="assigned", department_code="social_security", department_name="社保站", overdue=False,
                  result=None, completed_at=None, routing_version=1, promised_deadline=PROMISED,
                  deadline_provisional=True)
    return domain.CaseProgress(**{**fields, **overrides})


def _facts(**overrides) -> StatusFacts:
    fields = dict(case_no="QS-20261224-0001", item_name="城乡居民养老保险参保登记", centre_name="清水镇便民服务中心",
                  status="assigned", department_name="社保站", promised_deadline=PROMISED, overdue=False, result=None,
                  completed_at=None, rated=False, owed=(), deadline_provisional=False)
    return StatusFacts(**{**fields, **overrides})


def test_a_pause_is_shown_until_the_clock_resumes_with_the_moved_deadline():
    paused = domain.evolve(_progress(), _event(ClockPaused, ClockPausedPayload(reason="appraisal", note="宅基地界址鉴定"), 2))
    assert (paused.clock_paused_reason, paused.clock_paused_note) == ("appraisal", "宅基地界址鉴定")
    assert paused.clock_paused_at is not None and paused.promised_deadline == PROMISED
    resumed = domain.evolve(paused, _event(ClockResumed, ClockResumedPayload(
        paused_working_days=3, promised_deadline=LATER, deadline_provisional=False), 3))
    assert (resumed.clock_paused_reason, resumed.clock_paused_at) == (None, None)
    assert (resumed.promised_deadline, resumed.deadline_provisional) == (LATER, False)


@pytest.mark.parametrize("event", [
    _event(DeadlineExtended, DeadlineExtendedPayload(extension_working_days=5, reason="需现场踏勘", approved_by="h",
                                                     promised_deadline=LATER, deadline_provisional=False), 2),
    _event(DeadlineRecalculated, DeadlineRecalculatedPayload(previous_deadline=PROMISED, promised_deadline=LATER,
                                                             deadline_provisional=False, calendar_years=[2027]), 2),
])
def test_an_extension_or_a_recount_moves_the_deadline_and_its_mark(event):
    moved = domain.evolve(_progress(), event)
    assert (moved.promised_deadline, moved.deadline_provisional, moved.routing_version) == (LATER, False, 2)


def test_an_older_clock_event_changes_nothing():
    progress = _progress(routing_version=5)
    stale = _event(ClockPaused, ClockPausedPayload(reason="hearing", note="听证"), 4)
    assert domain.evolve(progress, stale) == progress


def test_completion_ends_a_pause():
    paused = _progress(clock_paused_reason="hearing", clock_paused_note="听证", clock_paused_at=PROMISED)
    done = domain.evolve(paused, _event(CaseCompleted, CaseCompletedPayload(
        department_code="social_security", result="granted", on_time=True, promised_deadline=PROMISED), 2))
    assert done.status == "completed" and done.clock_paused_reason is None


def test_only_the_case_deadline_breached_marks_the_case_overdue():
    def breach(kind: str):
        return _event(DeadlineBreached, DeadlineBreachedPayload(
            department_code="social_security", promised_deadline=PROMISED, detected_at=LATER, deadline_kind=kind,
            deadline_key="case" if kind == "case" else "material:photo"), 2)
    assert not domain.evolve(_progress(), breach("tolerated_material")).overdue
    assert domain.evolve(_progress(), breach("case")).overdue


def test_the_status_page_says_why_the_clock_stands_still():
    text = pause_text(_facts(clock_paused_reason="hearing", clock_paused_note="申请人申请听证"))
    assert text is not None and text.startswith("暂停计时（听证：申请人申请听证）") and "不计入办理时限" in text
    assert "暂停计时" in summary(_facts(clock_paused_reason="materials", clock_paused_note="补正户口簿"))
    assert pause_text(_facts()) is None
    assert pause_text(_facts(status="completed", clock_paused_reason="hearing")) is None


def test_a_provisional_deadline_and_due_date_carry_the_mark():
    marked = deadline_text(_facts(deadline_provisional=True))
    assert marked == f"承诺办结日期：2027年01月08日{PROVISIONAL_MARK}"
    assert deadline_text(_facts()) == "承诺办结日期：2027年01月08日"
    assert PROVISIONAL_MARK in summary(_facts(deadline_provisional=True))
    owed = OwedMaterial(name="近期免冠照片", problem="missing", note="", due=PROMISED, due_provisional=True)
    assert due_text(owed) == f"2027年01月08日前补交{PROVISIONAL_MARK}"


def test_acceptance_marks_what_it_counted_on_the_provisional_calendar():
    item = next(i for i in load_catalogue().items if i.item_code == "SB-002").to_item("2026.11-r2")
    arrival = application.Arrival(
        township_id="qingshui", channel="window", village_id=None, agent_id=None,
        first_contact_staff_id="qs-general_window-01", applicant_name="张三", applicant_id_masked="1101**********002X",
        provided=("id_card", "hukou", "bank_card"), faulty=())

    def accepted_at(now: datetime) -> list:
        return [e.payload for e in application.decide_arrival(arrival, item=item, case_no="QS-1", now=now,
                                                              calendar=WorkingCalendar())]

    accepted, due = accepted_at(datetime(2026, 12, 24, 2, tzinfo=UTC))
    assert accepted.deadline_provisional and accepted.legal_limit_days == 20
    assert isinstance(due, ToleratedMaterialDuePayload) and due.due_provisional
    accepted, due = accepted_at(datetime(2026, 11, 24, 2, tzinfo=UTC))
    assert not accepted.deadline_provisional and not due.due_provisional


def test_the_receipt_prints_the_provisional_mark():
    font, hall = IntakeSettings().font_file, hall_of(load_catalogue(), "qingshui")
    for provisional in (True, False):
        events = stream(submitted(deadline_provisional=provisional), tolerated_due_payload())
        receipt = fold(events[0].case_id, "qingshui", events, NAMES).receipt
        assert receipt is not None
        text = pdf_text(render_receipt(receipt, hall=hall, font=font, printed_at=events[0].occurred_at))
        assert ("暂定" in text) is provisional
