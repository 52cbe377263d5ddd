"""Escalated cases (上报件): sent up to the county with what was sent, tracked until the answer comes back."""

from __future__ import annotations

from contracts.envelope import NewEvent
from contracts.errors import DomainError
from contracts.events import CaseEscalated, CaseEscalatedPayload, EscalationAnswered, EscalationAnsweredPayload
from services.routing.domain import CaseState, transition


class AlreadyEscalated(DomainError):
    status, code, message = 409, "CASE_ALREADY_ESCALATED", "办件已上报县级部门"


class NotEscalated(DomainError):
    status, code, message = 409, "CASE_NOT_ESCALATED", "办件尚未上报，无县级答复可登记"


class EscalationAlreadyAnswered(DomainError):
    status, code, message = 409, "ESCALATION_ALREADY_ANSWERED", "县级答复已登记"


class EscalationNoteRequired(DomainError):
    status, code, message = 422, "ESCALATION_NOTE_REQUIRED", "上报须写明初审意见和上报的县级部门"


def decide_escalate(state: CaseState, *, county_department: str, sent_materials: list[str],
                    note: str) -> list[NewEvent]:
    """上报: once, naming the county office, the materials sent and the township's opinion."""
    transition(state.status, "escalate")
    if state.escalated_to is not None:
        raise AlreadyEscalated()
    if not county_department.strip() or not note.strip() or not sent_materials:
        raise EscalationNoteRequired()
    return [NewEvent(CaseEscalated, CaseEscalatedPayload(
        county_department=county_department.strip(), sent_materials=sorted(set(sent_materials)), note=note.strip()))]


def decide_answer(state: CaseState, *, result: str, answer: str, reference: str) -> list[NewEvent]:
    """The county's answer, recorded once; the holder then completes the case and tells the resident."""
    transition(state.status, "answer")
    if state.escalated_to is None:
        raise NotEscalated()
    if state.escalation_result is not None:
        raise EscalationAlreadyAnswered()
    return [NewEvent(EscalationAnswered, EscalationAnsweredPayload(
        result=result, answer=answer.strip(), reference=reference.strip()))]  # type: ignore[arg-type]
