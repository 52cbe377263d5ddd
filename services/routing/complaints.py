"""Routing's pure rules for complaints and reports (投诉/举报): who may answer, and when it is on time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from contracts.envelope import Envelope, NewEvent
from contracts.errors import DomainError
from contracts.events import ComplaintAnswered, ComplaintAnsweredPayload, ComplaintRegistered
from contracts.personal_data import complainant_name_for
from contracts.workdays import WorkingCalendar
from services.routing.alerts import Timer, alert, timers_for
from services.routing.domain import GENERAL_WINDOW


class ComplaintNotFound(DomainError):
    status, code, message = 404, "COMPLAINT_NOT_FOUND", "投诉或举报不存在或尚未登记到达"


class ComplaintAlreadyAnswered(DomainError):
    status, code, message = 409, "COMPLAINT_ALREADY_ANSWERED", "该投诉或举报已答复，不能重复答复"


class AnswererComplainedAbout(DomainError):
    status, code, message = 403, "COMPLAINT_ABOUT_ANSWERER", "被投诉人不得调查或答复针对本人的投诉或举报"


class AnswerRequired(DomainError):
    status, code, message = 422, "COMPLAINT_ANSWER_REQUIRED", "答复内容不能为空"


@dataclass(frozen=True)
class ComplaintState:
    """A complaint as routing holds it: open for the centre head or its department until answered."""

    complaint_id: UUID
    complaint_no: str
    township_id: str
    complaint_kind: str
    subject: str
    content: str
    department_code: str | None
    about_staff_id: str | None
    about_case_id: UUID | None
    anonymous: bool
    complainant_name: str | None
    registered_at: datetime
    answer_due: datetime
    status: str = "open"  # open | answered
    answer: str | None = None
    upheld: bool | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    on_time: bool | None = None


def received(event: ComplaintRegistered) -> ComplaintState:
    p = event.payload
    return ComplaintState(
        complaint_id=event.case_id, complaint_no=p.complaint_no, township_id=event.township_id,
        complaint_kind=p.complaint_kind, subject=p.subject, content=p.content, department_code=p.department_code,
        about_staff_id=p.about_staff_id, about_case_id=p.about_case_id, anonymous=p.anonymous,
        complainant_name=p.complainant_name, registered_at=event.occurred_at, answer_due=p.answer_due)


def check_answerer(state: ComplaintState, answerer_id: str) -> None:
    """Whoever else may answer, never the staff member complained about."""
    if state.about_staff_id is not None and state.about_staff_id == answerer_id:
        raise AnswererComplainedAbout()


def as_seen_by(state: ComplaintState, reader_id: str) -> ComplaintState:
    """The staff member complained about never learns who complained (no retaliation)."""
    return replace(state, complainant_name=complainant_name_for(reader_id, name=state.complainant_name,
                                                               about_staff_id=state.about_staff_id))


def decide_answer(state: ComplaintState, *, answer: str, upheld: bool, answerer_id: str, now: datetime) -> list[NewEvent]:
    """投诉办结: once, never by the one complained about; on time when by answer_due."""
    check_answerer(state, answerer_id)
    if state.status == "answered":
        raise ComplaintAlreadyAnswered()
    answer = answer.strip()
    if not answer:
        raise AnswerRequired()
    payload = ComplaintAnsweredPayload(answer=answer, upheld=upheld, answered_by=answerer_id,
                                       on_time=now <= state.answer_due)
    return [NewEvent(ComplaintAnswered, payload)]


def evolve(state: ComplaintState, event: Envelope) -> ComplaintState:
    match event:
        case ComplaintAnswered(payload=p):
            return replace(state, status="answered", answer=p.answer, upheld=p.upheld, answered_by=p.answered_by,
                           answered_at=event.occurred_at, on_time=p.on_time)
    return state


def is_overdue(state: ComplaintState, *, now: datetime) -> bool:
    """Late: answered after answer_due, or unanswered past it."""
    if state.status == "answered":
        return state.on_time is False
    return now > state.answer_due


COMPLAINT_KEY = "complaint"


def complaint_timers(state: ComplaintState, *, calendar: WorkingCalendar, warning_days: int) -> list[Timer]:
    """A complaint's answer is due like a case: warned ahead, breached once past due, until it is answered."""
    if state.status != "open":
        return []
    return timers_for(COMPLAINT_KEY, deadline=state.answer_due, start=state.registered_at, deadline_kind="complaint",
                      subject=state.subject, calendar=calendar, warning_days=warning_days)


def decide_alert(state: ComplaintState, timer: Timer, *, now: datetime) -> list[NewEvent]:
    """The complaint's warning or breach, while it is unanswered; the timer row makes each fire once."""
    if state.status != "open" or (timer.kind == "breach" and now <= state.answer_due):
        return []
    if timer.kind == "warning" and now > state.answer_due:
        return []  # its breach is due as well and comes instead
    return [alert(timer, department_code=state.department_code or GENERAL_WINDOW.code, staff_id=None,
                  case_no=state.complaint_no, now=now)]
