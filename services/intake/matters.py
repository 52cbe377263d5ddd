"""Pure rules for matters that are not catalogue cases: consultations (咨询), complaints and reports
(投诉/举报) and referrals (转介). Each is its own stream: its id is the case_id of its events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from contracts.departments import DEPARTMENTS
from contracts.envelope import NewEvent
from contracts.errors import DomainError
from contracts.events import (
    CaseReferred,
    CaseReferredPayload,
    Channel,
    ComplaintKind,
    ComplaintRegistered,
    ComplaintRegisteredPayload,
    ConsultationLogged,
    ConsultationLoggedPayload,
)
from contracts.workdays import WorkingCalendar
from services.intake.items import Item

# Complaint numbers name their kind: 投诉 T, 举报 J (QS-T-20261123-0001).
KIND_LETTER: dict[str, str] = {"complaint": "T", "report": "J"}
MAX_REPORT_DAYS = 366  # a head's consultation report spans a year at most


class UnknownDepartment(DomainError):
    status, code, message = 422, "DEPARTMENT_UNKNOWN", "部门不存在，请从部门目录中选择"


class ComplaintNotFound(DomainError):
    status, code, message = 404, "COMPLAINT_NOT_FOUND", "投诉或举报不存在"


class ConcernedCaseNotFound(DomainError):
    status, code, message = 422, "CONCERNED_CASE_NOT_FOUND", "所涉办件不存在或不属于本乡镇"


class ComplainantNameRequired(DomainError):
    status, code, message = 422, "COMPLAINANT_NAME_REQUIRED", "实名投诉须填写投诉人姓名；不愿署名的请选择匿名"


class ItemOfferedHere(DomainError):
    status, code = 422, "ITEM_OFFERED_HERE"
    message = "本中心可以办理该事项，请直接受理，不应转介"


class NoComplainantContact(DomainError):
    status, code, message = 409, "COMPLAINANT_CONTACT_NONE", "该投诉或举报未留联系方式，无需删除"


class ReportPeriodInvalid(DomainError):
    status, code = 422, "REPORT_PERIOD_INVALID"
    message = f"统计起止日期不正确：开始日期不能晚于结束日期，跨度不超过{MAX_REPORT_DAYS}天"


@dataclass(frozen=True)
class LogConsultation:
    township_id: str
    question: str
    answer: str
    item_code: str | None
    department_code: str | None
    channel: Channel
    staff_id: str


@dataclass(frozen=True)
class RegisterComplaint:
    township_id: str
    kind: ComplaintKind
    subject: str
    content: str
    department_code: str | None
    about_staff_id: str | None
    about_case_id: UUID | None
    anonymous: bool
    complainant_name: str | None
    complainant_phone: str | None  # E.164; goes to the contact path, never into an event
    staff_id: str


@dataclass(frozen=True)
class ReferMatter:
    township_id: str
    matter: str
    item_code: str | None
    referred_to: str
    address: str
    office_hours: str
    note: str
    staff_id: str


def known_department(code: str | None) -> str | None:
    """The code if the county knows it (None passes); else the named refusal."""
    if code is not None and code not in DEPARTMENTS:
        raise UnknownDepartment(details={"department_code": code})
    return code


def decide_consultation(cmd: LogConsultation, *, item: Item | None) -> list[NewEvent]:
    """A question answered: counted under its department, which the item gives when none is named."""
    department = known_department(cmd.department_code) or (item.department_code if item else None)
    payload = ConsultationLoggedPayload(
        question=cmd.question, answer=cmd.answer, item_code=cmd.item_code, department_code=department,
        channel=cmd.channel, first_contact_staff_id=cmd.staff_id)
    return [NewEvent(ConsultationLogged, payload)]


def complaint_no(prefix: str, kind: ComplaintKind, day: date, number: int) -> str:
    return f"{prefix}-{KIND_LETTER[kind]}-{day:%Y%m%d}-{number:04d}"


def answer_due(calendar: WorkingCalendar, registered_at: datetime, days: int) -> datetime:
    """End of the N-th working day after registration, on the shared calendar."""
    return calendar.deadline_for(registered_at, days)


def decide_complaint(cmd: RegisterComplaint, *, number: str, due: datetime) -> list[NewEvent]:
    """A complaint or report registered: anonymous ones carry no name; a named one must give it."""
    known_department(cmd.department_code)
    if not cmd.anonymous and not cmd.complainant_name:
        raise ComplainantNameRequired()
    payload = ComplaintRegisteredPayload(
        complaint_kind=cmd.kind, complaint_no=number, subject=cmd.subject, content=cmd.content,
        department_code=cmd.department_code, about_staff_id=cmd.about_staff_id, about_case_id=cmd.about_case_id,
        anonymous=cmd.anonymous, complainant_name=None if cmd.anonymous else cmd.complainant_name,
        answer_due=due, first_contact_staff_id=cmd.staff_id)
    return [NewEvent(ComplaintRegistered, payload)]


def decide_referral(cmd: ReferMatter, *, item: Item | None) -> list[NewEvent]:
    """转介 is for what the township does not handle: a catalogue item offered here is taken in instead."""
    if item is not None and item.offered_at(cmd.township_id):
        raise ItemOfferedHere(details={"item_code": item.item_code, "item_name": item.name})
    payload = CaseReferredPayload(
        matter=cmd.matter, item_code=cmd.item_code, referred_to=cmd.referred_to, address=cmd.address,
        office_hours=cmd.office_hours, note=cmd.note, first_contact_staff_id=cmd.staff_id)
    return [NewEvent(CaseReferred, payload)]


def referral_guidance(payload: CaseReferredPayload, *, item: Item | None) -> str:
    """What the resident is told, in one paragraph they can be handed on paper."""
    parts = []
    if item is not None:
        parts.append(f"本中心不办理“{item.name}”。")
    parts.append(f"请前往{payload.referred_to}办理")
    where = "；".join(p for p in (payload.address and f"地址：{payload.address}",
                                  payload.office_hours and f"办公时间：{payload.office_hours}") if p)
    parts.append(f"（{where}）。" if where else "。")
    if payload.note:
        parts.append(payload.note)
    return "".join(parts)


def complaint_overdue(*, status: str, on_time: bool | None, answer_due: datetime, now: datetime) -> bool:
    """Late: answered after answer_due, or still unanswered past it."""
    return on_time is False or (status == "open" and now > answer_due)


def report_period(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The days a consultation report covers: today alone unless asked otherwise."""
    end = end or today
    start = start or end
    if start > end or (end - start).days >= MAX_REPORT_DAYS:
        raise ReportPeriodInvalid(details={"from": start.isoformat(), "to": end.isoformat()})
    return start, end
