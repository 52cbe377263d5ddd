"""Intake's pure rules beside an application's way in (application.py): the applicant's ID number,
rating (好差评), erasing a contact, and following routing's progress of a case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from contracts.envelope import Envelope, NewEvent
from contracts.errors import DomainError
from contracts.events import (
    CaseAssigned,
    CaseCompleted,
    CaseTransferred,
    ClockPaused,
    ClockResumed,
    ContactErased,
    ContactErasedPayload,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineRecalculated,
)
from contracts.personal_data import id_check_character


class CaseNotFound(DomainError):
    status, code, message = 404, "CASE_NOT_FOUND", "办件不存在"


class UnknownItem(DomainError):
    status, code, message = 404, "ITEM_NOT_FOUND", "服务事项不存在"


class UnknownTownship(DomainError):
    status, code, message = 404, "TOWNSHIP_NOT_FOUND", "乡镇不存在"


class InvalidIdCard(DomainError):
    status, code, message = 422, "ID_CARD_INVALID", "身份证号码格式或校验位不正确"


class ContactAlreadyErased(DomainError):
    status, code, message = 409, "CONTACT_ALREADY_ERASED", "该办件申请人的联系方式已删除"


def valid_id_number(number: str) -> bool:
    """GB 11643 18-digit citizen number with its ISO 7064 check character."""
    # isascii first: str.isdigit() and int() also take "²", "０" and "٣".
    if len(number) != 18 or not number.isascii() or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return number[17].upper() == id_check_character(number[:17])


def decide_erase_contact(*, erased: bool, reason: str) -> list[NewEvent]:
    """个人信息删除: the number goes, the history records that it went, and why."""
    if erased:
        raise ContactAlreadyErased()
    return [NewEvent(ContactErased, ContactErasedPayload(reason=reason))]


@dataclass(frozen=True)
class CaseProgress:
    """The resident-facing part of a case that routing's events move."""

    status: str  # submitted | assigned | completed
    department_code: str
    department_name: str | None  # as routing names it, for the resident's status page
    overdue: bool
    result: str | None
    completed_at: datetime | None
    routing_version: int  # stream_version of the last routing event applied
    # The deadline in force: as intake promised it, then as routing moves it (pause, extension, recount).
    promised_deadline: datetime | None = None
    deadline_provisional: bool = False
    clock_paused_reason: str | None = None  # a PauseReason while routing's clock stands still
    clock_paused_note: str | None = None
    clock_paused_at: datetime | None = None


def evolve(progress: CaseProgress, event: Envelope) -> CaseProgress:
    """Apply one of routing's events. One older than what is shown changes nothing: a projection
    never lets a lower stream_version overwrite a higher one (a redelivery after a rebalance)."""
    if event.stream_version <= progress.routing_version:
        return progress
    progress = replace(progress, routing_version=event.stream_version)
    match event:
        case CaseAssigned():
            return replace(progress, status="assigned", department_code=event.payload.department_code,
                           department_name=event.payload.department_name)
        case CaseTransferred():
            return replace(progress, status="assigned", department_code=event.payload.to_department_code,
                           department_name=event.payload.to_department_name)
        case CaseCompleted():
            return replace(_running(progress), status="completed", result=event.payload.result,
                           completed_at=event.occurred_at)
        case DeadlineBreached() if event.payload.deadline_kind == "case":  # not a material's or follow-up's
            return replace(progress, overdue=True)
        case ClockPaused(payload=paused):
            return replace(progress, clock_paused_reason=paused.reason, clock_paused_note=paused.note,
                           clock_paused_at=event.occurred_at)
        case ClockResumed(payload=moved) | DeadlineExtended(payload=moved) | DeadlineRecalculated(payload=moved):
            # Each names the deadline in force afterwards, and whether it still rests on the provisional calendar.
            moving = _running(progress) if isinstance(event, ClockResumed) else progress
            return replace(moving, promised_deadline=moved.promised_deadline,
                           deadline_provisional=moved.deadline_provisional)
    return progress


def _running(progress: CaseProgress) -> CaseProgress:
    return replace(progress, clock_paused_reason=None, clock_paused_note=None, clock_paused_at=None)
