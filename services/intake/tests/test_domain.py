from datetime import UTC, datetime

import pytest

from contracts.events import (
    CaseAssigned,
    CaseAssignedPayload,
    CaseCompleted,
    CaseCompletedPayload,
    CaseTransferred,
    CaseTransferredPayload,
    DeadlineBreached,
    DeadlineBreachedPayload,
)
from services.intake import domain
from services.intake.tests.builders import VALID_ID

pytestmark = pytest.mark.unit

def test_id_number_checksum():
    assert domain.valid_id_number(VALID_ID)
    assert not domain.valid_id_number(VALID_ID[:-1] + "1")
    assert not domain.valid_id_number("110105194913310021")  # month 13


def _routing_event(cls, payload, *, version: int):
    from contracts.envelope import Actor, new_event_id

    case_id = new_event_id()
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime(2026, 11, 24, 2, tzinfo=UTC),
               source="routing", case_id=case_id, stream_version=version, township_id="qingshui",
               actor=Actor(kind="staff", id="staff-1"), correlation_id=case_id, payload=payload)


DEADLINE = datetime(2026, 12, 7, 15, 59, tzinfo=UTC)
ASSIGNED = dict(department_code="medical_insurance", department_name="医保站", staff_id="s1", promised_deadline=DEADLINE)
TRANSFERRED = dict(from_department_code="medical_insurance", to_department_code="civil_affairs",
                   to_department_name="民政办", reason="属民政业务", transfer_count=1)


def _progress(**overrides) -> domain.CaseProgress:
    fields = dict(status="submitted", department_code="medical_insurance", department_name=None, overdue=False, result=None,
                  completed_at=None, routing_version=0)
    return domain.CaseProgress(**{**fields, **overrides})


def test_routing_events_move_the_resident_facing_status():
    assigned = _routing_event(CaseAssigned, CaseAssignedPayload(**ASSIGNED), version=1)
    transferred = _routing_event(CaseTransferred, CaseTransferredPayload(**TRANSFERRED), version=2)
    completed = _routing_event(CaseCompleted, CaseCompletedPayload(
        department_code="civil_affairs", result="granted", on_time=True, promised_deadline=DEADLINE), version=3)
    progress = _progress()
    for event in (assigned, transferred, completed):
        progress = domain.evolve(progress, event)
    assert (progress.status, progress.department_code, progress.result, progress.routing_version) == (
        "completed", "civil_affairs", "granted", 3)
    assert progress.completed_at == completed.occurred_at


def test_an_older_routing_event_never_overwrites_a_newer_one():
    """A late CaseAssigned (v1) after the CaseTransferred (v2) it preceded changes nothing."""
    transferred = _routing_event(CaseTransferred, CaseTransferredPayload(**TRANSFERRED), version=2)
    late_assigned = _routing_event(CaseAssigned, CaseAssignedPayload(**ASSIGNED), version=1)
    progress = domain.evolve(domain.evolve(_progress(), transferred), late_assigned)
    assert (progress.status, progress.department_code, progress.routing_version) == ("assigned", "civil_affairs", 2)


def test_a_breach_marks_the_case_overdue_and_a_gap_in_versions_is_no_obstacle():
    breached = _routing_event(DeadlineBreached, DeadlineBreachedPayload(
        department_code="medical_insurance", promised_deadline=DEADLINE, detected_at=DEADLINE), version=4)
    progress = domain.evolve(_progress(status="assigned", routing_version=2), breached)
    assert progress.overdue and progress.status == "assigned" and progress.routing_version == 4
