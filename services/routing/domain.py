"""Routing's pure rules for one case: holder (分办), transfer (转办) and ping-pong (推诿扯皮), the deadline clock's
commands (暂停计时, 延期, recount), completion (办结), and how routing's own events change the case.

Joint shares (joint.py), escalation (escalation.py) and warnings and breaches (alerts.py) have modules of
their own; `evolve` here applies every routing event so that one fold rebuilds the whole case."""

from __future__ import annotations

from collections.abc import Iterable
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
    CaseEscalated,
    CaseFlagged,
    CaseFlaggedPayload,
    CaseSubmitted,
    CaseTransferred,
    CaseTransferredPayload,
    ClockPaused,
    ClockPausedPayload,
    ClockResumed,
    ClockResumedPayload,
    CompletionResult,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineExtendedPayload,
    DeadlineRecalculated,
    DeadlineRecalculatedPayload,
    DeadlineWarning,
    EscalationAnswered,
    JointTaskAssigned,
    JointTaskDone,
    PauseReason,
)
from contracts.workdays import WorkingCalendar
from services.routing import deadline_clock as dc


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
class PauseClock:
    reason: PauseReason
    note: str


@dataclass(frozen=True)
class ExtendDeadline:
    days: int
    reason: str
    approved_by: str


class JointCaseCompletesByShares(DomainError):
    status, code = 409, "JOINT_CASE_COMPLETES_BY_SHARES"
    message = "联办件在各部门办理意见均已提交后自动办结，请提交本部门的办理意见"


class EscalationUnanswered(DomainError):
    status, code, message = 409, "ESCALATION_UNANSWERED", "办件已上报县级部门，须待县级答复后办结"


# A refusal always tells the resident how to contest it (行政复议法 第二十条, 行政诉讼法 第四十六条).
APPEAL_RIGHTS = ("如不服本决定，可自收到本决定之日起六十日内依法申请行政复议，"
                 "或者自收到本决定之日起六个月内依法向人民法院提起行政诉讼。")
# Transfers from the third on, or back to a department already left, are flagged as ping-pong.
PING_PONG_TRANSFERS = 3


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
    kind: str = "promised"
    clock_start: datetime | None = None    # None only for cases opened before the clock was kept
    limit_days: int = 0
    legal_limit_days: int | None = None
    paused_working_days: int = 0
    paused_since: datetime | None = None
    pause_reason: str | None = None
    extension_days: int = 0
    deadline_provisional: bool = False
    path: tuple[str, ...] = ()             # departments held, in order, the current one last
    flagged: bool = False                  # ping-pong flagged once per case
    warned_keys: tuple[str, ...] = ()      # deadlines (case, material:<code> …) warned once
    breached_keys: tuple[str, ...] = ()    # and breached once
    escalated_to: str | None = None
    escalation_result: str | None = None
    tasks: tuple[JointTask, ...] = ()      # a joint case's shares, one per department

    @property
    def clock(self) -> dc.Clock:
        start = self.clock_start or self.promised_deadline
        return dc.Clock(start, self.limit_days, self.legal_limit_days, self.paused_working_days, self.paused_since,
                        self.extension_days)

    @property
    def paused(self) -> bool:
        return self.paused_since is not None


@dataclass(frozen=True)
class JointTask:
    """One department's share of a joint case (联办件)."""

    department_code: str
    staff_id: str | None
    done: bool = False
    result: str | None = None
    note: str = ""
    working_days: int | None = None


# Transition table: (status, action) -> next status. A pair not listed is not allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("new", "assign"): "assigned",
    **{("assigned", action): "assigned" for action in (
        "reassign", "transfer", "breach", "warn", "pause", "resume", "extend", "recount", "escalate", "answer",
        "share")},
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


def assignment_department(found: Department | None) -> Department:
    """The catalogue's department if the directory knows it, else the general window."""
    return found if found is not None else GENERAL_WINDOW


def opened(event: CaseSubmitted) -> CaseState:
    """The case as routing first learns of it, before it is assigned; its clock starts when intake's did."""
    p = event.payload
    start = p.received_at if p.deemed_accepted and p.received_at is not None else event.occurred_at
    return CaseState(case_id=event.case_id, case_no=p.case_no, township_id=event.township_id, item_code=p.item_code,
                     item_name=p.item_name, department_code=p.department_code, department_name="", staff_id=None,
                     status="new", promised_deadline=p.promised_deadline, kind=p.kind, clock_start=start,
                     limit_days=p.promised_limit_days, legal_limit_days=p.legal_limit_days,
                     deadline_provisional=p.deadline_provisional)


def decide_assign(state: CaseState, *, department: Department, staff_id: str | None) -> list[NewEvent]:
    """分办: CaseAssigned to the department and the chosen staff member (none: the general window holds it)."""
    transition(state.status, "assign")
    return [_assigned(department, staff_id, state)]


def decide_reassign(state: CaseState, *, staff_id: str | None, reason: AssignmentReason) -> list[NewEvent]:
    """A new holder in the same department: someone able returned, the holder went away, or the centre head chose.

    `staff_id` None leaves the case with the general window (综合窗口) until someone able is present.
    """
    transition(state.status, "reassign")
    if staff_id == state.staff_id and (staff_id is None) == state.held_by_general_window:
        return []
    return [_assigned(Department(state.department_code, state.department_name), staff_id, state, reason=reason)]


def decide_transfer(state: CaseState, cmd: TransferCase, *, target: Department | None,
                    staff_id: str | None = None) -> list[NewEvent]:
    """转办 to another known department and a holder there, with a reason; a bouncing case is flagged once."""
    transition(state.status, "transfer")
    reason = cmd.reason.strip()
    if not reason:
        raise TransferReasonRequired()
    if cmd.to_department_code == state.department_code:
        raise SameDepartment()
    if target is None:
        raise UnknownDepartment(details={"to_department_code": cmd.to_department_code})
    count = state.transfer_count + 1
    events = [NewEvent(CaseTransferred, CaseTransferredPayload(
        from_department_code=state.department_code, to_department_code=target.code, to_department_name=target.name,
        reason=reason, transfer_count=count, to_staff_id=staff_id, held_by_general_window=staff_id is None))]
    path = [*_path(state), target.code]
    if not state.flagged and (target.code in _path(state) or count >= PING_PONG_TRANSFERS):
        events.append(NewEvent(CaseFlagged, CaseFlaggedPayload(reason="ping_pong", path=path, transfer_count=count)))
    return events


def decide_complete(state: CaseState, cmd: CompleteCase, *, now: datetime, calendar: WorkingCalendar,
                    by: str | None = None) -> list[NewEvent]:
    """办结: on time when decided by the deadline in force; a refusal states its reasons and the appeal route."""
    transition(state.status, "complete")
    if state.tasks:
        raise JointCaseCompletesByShares()
    if state.escalated_to is not None and state.escalation_result is None:
        raise EscalationUnanswered()
    return completion(state, cmd, now=now, calendar=calendar, by=by)


def completion(state: CaseState, cmd: CompleteCase, *, now: datetime, calendar: WorkingCalendar,
               by: str | None) -> list[NewEvent]:
    """The CaseCompleted itself, once the kind of case allows it."""
    note = cmd.note.strip()
    if cmd.result == "refused" and not note:
        raise RefusalNoteRequired()
    on_time = dc.on_time(calendar, state.clock, now=now) if state.paused else now <= state.promised_deadline
    payload = CaseCompletedPayload(department_code=state.department_code, result=cmd.result, note=note,
                                   on_time=on_time, promised_deadline=state.promised_deadline,
                                   appeal_rights=APPEAL_RIGHTS if cmd.result == "refused" else "", staff_id=by)
    return [NewEvent(CaseCompleted, payload)]


def decide_pause(state: CaseState, cmd: PauseClock, *, now: datetime) -> list[NewEvent]:
    """暂停计时: materials awaited, or a procedure the law does not count (行政许可法 第四十五条)."""
    transition(state.status, "pause")
    if not cmd.note.strip():
        raise dc.PauseNoteRequired()
    dc.paused(state.clock, now=now, deadline=state.promised_deadline)
    return [NewEvent(ClockPaused, ClockPausedPayload(reason=cmd.reason, note=cmd.note.strip()))]


def decide_resume(state: CaseState, *, now: datetime, calendar: WorkingCalendar) -> list[NewEvent]:
    """恢复计时: the deadline moves by the working days the clock stood."""
    transition(state.status, "resume")
    clock, credit = dc.resumed(calendar, state.clock, now=now)
    deadline = dc.deadline_in_force(calendar, clock)
    return [NewEvent(ClockResumed, ClockResumedPayload(
        paused_working_days=credit, promised_deadline=deadline,
        deadline_provisional=dc.is_provisional(calendar, clock, deadline)))]


def decide_extend(state: CaseState, cmd: ExtendDeadline, *, now: datetime,
                  calendar: WorkingCalendar) -> list[NewEvent]:
    """延期: once, approved by the centre head with a written reason, never past the legal limit (第四十二条)."""
    transition(state.status, "extend")
    clock = dc.extended(state.clock, days=cmd.days, reason=cmd.reason, now=now, deadline=state.promised_deadline)
    deadline = dc.deadline_in_force(calendar, clock)
    return [NewEvent(DeadlineExtended, DeadlineExtendedPayload(
        extension_working_days=cmd.days, reason=cmd.reason.strip(), approved_by=cmd.approved_by,
        promised_deadline=deadline, deadline_provisional=dc.is_provisional(calendar, clock, deadline)))]


def decide_recount(state: CaseState, *, calendar: WorkingCalendar) -> list[NewEvent]:
    """Recount a provisional deadline once a year's official schedule is known; nothing if nothing changed."""
    if state.status != "assigned" or not state.deadline_provisional or state.clock_start is None:
        return []
    deadline = dc.deadline_in_force(calendar, state.clock)
    provisional = dc.is_provisional(calendar, state.clock, deadline)
    if provisional and deadline == state.promised_deadline:
        return []
    years = list(range(dc.local_day(state.clock.start).year, dc.local_day(deadline).year + 1))
    return [NewEvent(DeadlineRecalculated, DeadlineRecalculatedPayload(
        previous_deadline=state.promised_deadline, promised_deadline=deadline, deadline_provisional=provisional,
        calendar_years=years))]


def evolve(state: CaseState, event: Envelope) -> CaseState:
    """The state after one of routing's own events."""
    match event:
        case CaseAssigned(payload=p):
            return replace(state, status="assigned", department_code=p.department_code,
                           department_name=p.department_name, staff_id=p.staff_id,
                           held_by_general_window=p.staff_id is None, path=state.path or (p.department_code,))
        case CaseTransferred(payload=p):
            return replace(state, department_code=p.to_department_code, department_name=p.to_department_name,
                           staff_id=p.to_staff_id, held_by_general_window=p.to_staff_id is None,
                           transfer_count=p.transfer_count, path=(*_path(state), p.to_department_code))
        case CaseFlagged():
            return replace(state, flagged=True)
        case CaseCompleted(payload=p):
            return replace(state, status="completed", completed_at=event.occurred_at, result=p.result, note=p.note,
                           on_time=p.on_time, paused_since=None, pause_reason=None, tasks=())
        case ClockPaused(payload=p):
            return replace(state, paused_since=event.occurred_at, pause_reason=p.reason)
        case ClockResumed(payload=p):
            return replace(state, paused_since=None, pause_reason=None,
                           paused_working_days=state.paused_working_days + p.paused_working_days,
                           promised_deadline=p.promised_deadline, deadline_provisional=p.deadline_provisional)
        case DeadlineExtended(payload=p):
            return replace(state, extension_days=p.extension_working_days, promised_deadline=p.promised_deadline,
                           deadline_provisional=p.deadline_provisional)
        case DeadlineRecalculated(payload=p):
            return replace(state, promised_deadline=p.promised_deadline, deadline_provisional=p.deadline_provisional)
        case DeadlineWarning(payload=p):
            return replace(state, warned_keys=_with(state.warned_keys, p.deadline_key))
        case DeadlineBreached(payload=p):
            breached_at = p.detected_at if p.deadline_key == "case" else state.breached_at
            return replace(state, breached_at=breached_at, breached_keys=_with(state.breached_keys, p.deadline_key))
        case CaseEscalated(payload=p):
            return replace(state, escalated_to=p.county_department)
        case EscalationAnswered(payload=p):
            return replace(state, escalation_result=p.result)
        case JointTaskAssigned(payload=p):
            return replace(state, tasks=_task_held(state.tasks, p.department_code, p.staff_id))
        case JointTaskDone(payload=p):
            return replace(state, tasks=tuple(
                replace(t, done=True, result=p.result, note=p.note, working_days=p.working_days, staff_id=p.staff_id)
                if t.department_code == p.department_code else t for t in state.tasks))
    return state


def fold(state: CaseState, events: Iterable[Envelope]) -> CaseState:
    for event in events:
        state = evolve(state, event)
    return state


def is_overdue(state: CaseState, *, now: datetime) -> bool:
    """Late: completed after the deadline, or still open past it (flagged or not yet scanned); paused is not late."""
    if state.status == "completed":
        return state.on_time is False
    return state.breached_at is not None or (not state.paused and now > state.promised_deadline)


def _path(state: CaseState) -> tuple[str, ...]:
    return state.path or (state.department_code,)


def _with(keys: tuple[str, ...], key: str) -> tuple[str, ...]:
    return keys if key in keys else (*keys, key)


def _task_held(tasks: tuple[JointTask, ...], department_code: str, staff_id: str | None) -> tuple[JointTask, ...]:
    if any(t.department_code == department_code for t in tasks):
        return tuple(replace(t, staff_id=staff_id) if t.department_code == department_code else t for t in tasks)
    return (*tasks, JointTask(department_code, staff_id))


def _assigned(department: Department, staff_id: str | None, state: CaseState, *,
              reason: AssignmentReason = "accepted") -> NewEvent:
    return NewEvent(CaseAssigned, CaseAssignedPayload(
        department_code=department.code, department_name=department.name, staff_id=staff_id,
        promised_deadline=state.promised_deadline, reason=reason, held_by_general_window=staff_id is None,
        deadline_provisional=state.deadline_provisional))
