"""Routing's pure rules: assignment (分办), transfer (转办), completion (办结), deadline breach (超期)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from contracts.envelope import Envelope, NewEvent
from contracts.errors import DomainError
from contracts.events import (
    AssignmentReason,
    CaseAssigned,
    CaseAssignedPayload,
    CaseCompleted,
    CaseCompletedPayload,
    CaseSubmitted,
    CaseTransferred,
    CaseTransferredPayload,
    CompletionResult,
    DeadlineBreached,
    DeadlineBreachedPayload,
)


class CaseAlreadyCompleted(DomainError):
    status, code, message = 409, "CASE_ALREADY_COMPLETED", "办件已办结，不能再办理此操作"


class SameDepartment(DomainError):
    status, code, message = 409, "TRANSFER_SAME_DEPARTMENT", "办件已在该部门，无需转办"


class UnknownDepartment(DomainError):
    status, code, message = 422, "DEPARTMENT_UNKNOWN", "目标部门不存在，请从部门目录中选择"


class TransferReasonRequired(DomainError):
    status, code, message = 422, "TRANSFER_REASON_REQUIRED", "转办须填写转办理由"


class RefusalNoteRequired(DomainError):
    status, code = 422, "REFUSAL_NOTE_REQUIRED"
    message = "不予办理须写明理由及申请人依法享有的申请行政复议或提起行政诉讼的权利"


class CaseNotFound(DomainError):
    status, code, message = 404, "CASE_NOT_FOUND", "办件不存在或尚未分办"


class InvalidTransition(DomainError):
    status, code, message = 409, "INVALID_TRANSITION", "办件当前状态不允许此操作"


@dataclass(frozen=True)
class Department:
    code: str
    name: str


# Where a case goes when the catalogue names a department the directory does not know:
# the general window takes it and transfers it by hand, so no case is ever dropped.
GENERAL_WINDOW = Department("general_window", "综合窗口")


@dataclass(frozen=True)
class TransferCase:
    to_department_code: str
    reason: str


@dataclass(frozen=True)
class CompleteCase:
    result: CompletionResult
    note: str


@dataclass(frozen=True)
class CaseState:
    """Routing's view of one case, folded from CaseSubmitted and routing's own events."""

    case_id: UUID
    case_no: str
    township_id: str
    item_code: str
    item_name: str
    department_code: str
    department_name: str
    staff_id: str | None
    status: str  # new | assigned | completed
    promised_deadline: datetime
    transfer_count: int = 0
    breached_at: datetime | None = None
    completed_at: datetime | None = None
    result: str | None = None
    note: str = ""
    on_time: bool | None = None
    held_by_general_window: bool = False


# Transition table: (status, action) -> next status. A pair not listed is not allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("new", "assign"): "assigned",
    ("assigned", "reassign"): "assigned",
    ("assigned", "transfer"): "assigned",
    ("assigned", "breach"): "assigned",
    ("assigned", "complete"): "completed",
}


def transition(status: str, action: str) -> str:
    """Next status, or the named guard that forbids the action."""
    match (status, action):
        case ("completed", _):
            raise CaseAlreadyCompleted()
        case pair if pair in TRANSITIONS:
            return TRANSITIONS[pair]
        case _:
            raise InvalidTransition(details={"status": status, "action": action})


def choose_staff(open_cases_by_staff: Mapping[str, int]) -> str | None:
    """The staff member with the fewest open cases; ties go to the lowest staff id."""
    if not open_cases_by_staff:
        return None
    return min(open_cases_by_staff.items(), key=lambda item: (item[1], item[0]))[0]


def assignment_department(found: Department | None) -> Department:
    """The catalogue's department if the directory knows it, else the general window."""
    return found if found is not None else GENERAL_WINDOW


def opened(event: CaseSubmitted) -> CaseState:
    """The case as routing first learns of it, before it is assigned."""
    p = event.payload
    return CaseState(case_id=event.case_id, case_no=p.case_no, township_id=event.township_id, item_code=p.item_code,
                     item_name=p.item_name, department_code=p.department_code, department_name="", staff_id=None,
                     status="new", promised_deadline=p.promised_deadline)


def decide_assign(state: CaseState, *, department: Department, staff_id: str | None) -> list[NewEvent]:
    """分办: CaseAssigned to the department and the chosen staff member (none if the unit has nobody on duty)."""
    transition(state.status, "assign")
    return [_assigned(department, staff_id, state.promised_deadline)]


def decide_reassign(state: CaseState, *, staff_id: str | None, reason: AssignmentReason) -> list[NewEvent]:
    """A new holder in the same department: someone able returned, the holder went away, or the centre head chose.

    `staff_id` None leaves the case with the general window (综合窗口) until someone able is present.
    """
    transition(state.status, "reassign")
    if staff_id == state.staff_id and (staff_id is None) == state.held_by_general_window:
        return []
    department = Department(state.department_code, state.department_name)
    return [_assigned(department, staff_id, state.promised_deadline, reason=reason)]


def decide_transfer(state: CaseState, cmd: TransferCase, *, target: Department | None) -> list[NewEvent]:
    """转办: CaseTransferred to another known department, with a reason."""
    transition(state.status, "transfer")
    reason = cmd.reason.strip()
    if not reason:
        raise TransferReasonRequired()
    if cmd.to_department_code == state.department_code:
        raise SameDepartment()
    if target is None:
        raise UnknownDepartment(details={"to_department_code": cmd.to_department_code})
    payload = CaseTransferredPayload(
        from_department_code=state.department_code, to_department_code=target.code, to_department_name=target.name,
        reason=reason, transfer_count=state.transfer_count + 1,
    )
    return [NewEvent(CaseTransferred, payload)]


def with_staff(state: CaseState, staff_id: str | None) -> CaseState:
    """The staff member picked in the new department after a transfer.

    CaseTransferred v1 names no staff member, so this pick lives in routing's state only.
    """
    return replace(state, staff_id=staff_id)


def decide_complete(state: CaseState, cmd: CompleteCase, *, now: datetime) -> list[NewEvent]:
    """办结: on time when decided at or before the promised deadline; a refusal states its reasons."""
    transition(state.status, "complete")
    note = cmd.note.strip()
    if cmd.result == "refused" and not note:
        raise RefusalNoteRequired()
    payload = CaseCompletedPayload(department_code=state.department_code, result=cmd.result, note=note,
                                   on_time=now <= state.promised_deadline, promised_deadline=state.promised_deadline)
    return [NewEvent(CaseCompleted, payload)]


def decide_breach(state: CaseState, *, now: datetime) -> list[NewEvent]:
    """One DeadlineBreached per case: only while open, past the deadline, and not yet flagged."""
    if state.status != "assigned" or state.breached_at is not None or now <= state.promised_deadline:
        return []
    transition(state.status, "breach")
    payload = DeadlineBreachedPayload(department_code=state.department_code, staff_id=state.staff_id,
                                      promised_deadline=state.promised_deadline, detected_at=now)
    return [NewEvent(DeadlineBreached, payload)]


def evolve(state: CaseState, event: Envelope) -> CaseState:
    """The state after one of routing's own events."""
    match event:
        case CaseAssigned(payload=p):
            return replace(state, status="assigned", department_code=p.department_code,
                           department_name=p.department_name, staff_id=p.staff_id,
                           held_by_general_window=p.staff_id is None)
        case CaseTransferred(payload=p):
            return replace(state, department_code=p.to_department_code, department_name=p.to_department_name,
                           staff_id=None, transfer_count=p.transfer_count)
        case CaseCompleted(payload=p):
            return replace(state, status="completed", completed_at=event.occurred_at, result=p.result, note=p.note,
                           on_time=p.on_time)
        case DeadlineBreached(payload=p):
            return replace(state, breached_at=p.detected_at)
    return state


def fold(state: CaseState, events: Iterable[Envelope]) -> CaseState:
    for event in events:
        state = evolve(state, event)
    return state


def is_overdue(state: CaseState, *, now: datetime) -> bool:
    """Late: completed after the deadline, or still open past it (flagged or not yet scanned)."""
    if state.status == "completed":
        return state.on_time is False
    return state.breached_at is not None or now > state.promised_deadline


def _assigned(department: Department, staff_id: str | None, deadline: datetime, *,
              reason: AssignmentReason = "accepted") -> NewEvent:
    return NewEvent(CaseAssigned, CaseAssignedPayload(
        department_code=department.code, department_name=department.name, staff_id=staff_id,
        promised_deadline=deadline, reason=reason, held_by_general_window=staff_id is None))
