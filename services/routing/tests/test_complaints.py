"""Pure rules of complaints in routing: who may answer, once, and when it is on time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts.departments import DEPARTMENTS
from contracts.events import ComplaintAnswered
from services.routing import complaints
from services.routing.directory import STAFF
from services.routing.domain import GENERAL_WINDOW

pytestmark = pytest.mark.unit
DUE = datetime(2026, 12, 14, 15, 59, 59, 999999, tzinfo=UTC)
STATE = complaints.ComplaintState(
    complaint_id=uuid4(), complaint_no="QS-T-20261123-0001", township_id="qingshui", complaint_kind="complaint",
    subject="窗口无人", content="上午十点医保窗口无人", department_code="medical_insurance",
    about_staff_id="qs-medical_insurance-01", about_case_id=None, anonymous=False, complainant_name="李四",
    registered_at=datetime(2026, 11, 23, 2, tzinfo=UTC), answer_due=DUE)


def test_an_answer_by_the_due_day_is_on_time_and_one_after_it_is_late():
    [on_time] = complaints.decide_answer(STATE, answer="已整改", upheld=True, answerer_id="qs-head", now=DUE)
    assert on_time.type is ComplaintAnswered and on_time.payload.on_time and on_time.payload.answered_by == "qs-head"
    [late] = complaints.decide_answer(STATE, answer="已整改", upheld=False, answerer_id="qs-head",
                                      now=datetime(2026, 12, 14, 16, tzinfo=UTC))
    assert late.payload.on_time is False and late.payload.upheld is False


def test_the_staff_member_complained_about_never_answers():
    with pytest.raises(complaints.AnswererComplainedAbout) as refused:
        complaints.decide_answer(STATE, answer="不属实", upheld=False, answerer_id="qs-medical_insurance-01", now=DUE)
    assert refused.value.status == 403
    complaints.check_answerer(STATE, "qs-medical_insurance-02")  # a colleague may
    complaints.check_answerer(replace(STATE, about_staff_id=None), "qs-medical_insurance-01")


def test_a_complaint_is_answered_once_and_with_words():
    answered = replace(STATE, status="answered", on_time=True)
    with pytest.raises(complaints.ComplaintAlreadyAnswered):
        complaints.decide_answer(answered, answer="再答复", upheld=True, answerer_id="qs-head", now=DUE)
    with pytest.raises(complaints.AnswerRequired):
        complaints.decide_answer(STATE, answer="  ", upheld=True, answerer_id="qs-head", now=DUE)


def test_folding_the_answer_closes_the_complaint():
    [new] = complaints.decide_answer(STATE, answer="已整改", upheld=True, answerer_id="qs-head", now=DUE)
    event = ComplaintAnswered(event_type="ComplaintAnswered", event_id=uuid4(), schema_version="1.0", occurred_at=DUE,
                              source="routing", case_id=STATE.complaint_id, stream_version=1, township_id="qingshui",
                              actor={"kind": "centre_head", "id": "qs-head"}, correlation_id=STATE.complaint_id,
                              payload=new.payload)
    state = complaints.evolve(STATE, event)
    assert (state.status, state.answered_by, state.upheld, state.answered_at) == ("answered", "qs-head", True, DUE)


def test_overdue_while_open_past_due_or_answered_late():
    assert complaints.is_overdue(STATE, now=datetime(2026, 12, 15, tzinfo=UTC))
    assert not complaints.is_overdue(STATE, now=DUE)
    assert complaints.is_overdue(replace(STATE, status="answered", on_time=False), now=DUE)
    assert not complaints.is_overdue(replace(STATE, status="answered", on_time=True), now=datetime(2027, 1, 1, tzinfo=UTC))


def test_routing_directory_uses_the_shared_departments():
    assert DEPARTMENTS[GENERAL_WINDOW.code] == GENERAL_WINDOW.name
    assert {s["department_code"] for s in STAFF} == set(DEPARTMENTS)
