"""Notify's pure rules for staff: whom a deadline warning, a breach or a flag reaches.

    DeadlineWarning  (黄灯) -> the holder; no holder (the general window holds it) -> the centre head(s)
    DeadlineBreached (红灯) -> the holder and the township's centre head(s), each once
    (a bad rating's visit and rectification deadlines, kind follow_up, in follow-up words)
    CaseFlagged   (推诿扯皮) -> the centre head(s)
    CaseAssigned, CaseTransferred -> the staff member who now holds the case
    CaseRated with bad_rating     -> the centre head(s)
    ComplaintRegistered           -> the centre head(s)

A staff member who should be told and has no number here becomes an Unreachable, which the
caller records: a late case is never dropped without a trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from contracts.departments import DEPARTMENTS
from contracts.events import CaseRated, ComplaintRegistered
from contracts.rating_events import FOLLOW_UP_RECTIFICATION, FOLLOW_UP_VISIT
from contracts.routing_events import (
    CaseAssigned,
    CaseFlagged,
    CaseTransferred,
    DeadlineBreached,
    DeadlinePayload,
    DeadlineWarning,
)
from services.notify.recipients import CENTRE_HEAD, Notice, Reach, StaffMember, Unreachable

Outcome = Notice | Unreachable
FOLLOW_UP = "follow_up"  # deadline_kind of a bad rating's visit and rectification (contracts/rating_events.py)
FOLLOW_UP_STEPS = (FOLLOW_UP_VISIT, FOLLOW_UP_RECTIFICATION)


def warning(event: DeadlineWarning, reach: Reach) -> list[Outcome]:
    """黄灯: the holder is reminded; a deadline nobody holds goes to the centre head(s) to assign it."""
    p = event.payload
    params, code = _deadline_params(p), _deadline_template(p, "warning")
    if p.staff_id is not None:
        return [to_staff(p.staff_id, reach.holder, code, params)]
    return to_heads(reach.heads, code, {**params, "unassigned": True})


def breach(event: DeadlineBreached, reach: Reach) -> list[Outcome]:
    """红灯: the holder and every centre head of the township; a head holding the case is told once."""
    p = event.payload
    params = {**_deadline_params(p), "late": lateness(p.promised_deadline, p.detected_at)}
    code = _deadline_template(p, "breached")
    told = [] if p.staff_id is None else [to_staff(p.staff_id, reach.holder, code, params)]
    others = tuple(h for h in reach.heads if h.staff_id != p.staff_id)
    if others or not reach.heads:
        told += to_heads(others, code,
                          {**params, "holder": holder_label(p, reach.holder), "unassigned": p.staff_id is None})
    return told


def flag(event: CaseFlagged, reach: Reach, *, case_no: str, item_name: str) -> list[Outcome]:
    """推诿扯皮: the centre head(s) see the case and the departments it went through, in names."""
    p = event.payload
    return to_heads(reach.heads, "case_flagged", {
        "case_no": case_no, "item_name": item_name, "path": "→".join(department_name(c) for c in p.path),
        "transfer_count": p.transfer_count})


def department_name(code: str) -> str:
    return DEPARTMENTS.get(code, code)


def holder_label(p: DeadlinePayload, holder: StaffMember | None) -> str:
    """How a centre head is told who holds the case: `社保站王芳`, or the staff id if notify has no name."""
    if p.staff_id is None:
        return ""
    return department_name(p.department_code) + (holder.name if holder else p.staff_id)


def lateness(deadline: datetime, detected_at: datetime) -> timedelta:
    return max(detected_at - deadline, timedelta(0))


def _deadline_params(p: DeadlinePayload) -> dict[str, object]:
    # A routing event before v1.1 carries no case number.
    params: dict[str, object] = {"kind": p.deadline_kind, "case_no": p.case_no or "编号未知的办件",
                                 "subject": p.subject, "deadline": p.promised_deadline}
    if p.deadline_kind == FOLLOW_UP:  # which step of the bad-rating loop: the visit or the rectification
        params["step"] = p.deadline_key if p.deadline_key in FOLLOW_UP_STEPS else FOLLOW_UP
    return params


def _deadline_template(p: DeadlinePayload, stage: str) -> str:
    """`deadline_warning` / `deadline_breached`, or the follow-up's own words for a bad rating's deadlines."""
    return f"{FOLLOW_UP}_{stage}" if p.deadline_kind == FOLLOW_UP else f"deadline_{stage}"


def to_staff(staff_id: str, member: StaffMember | None, template_code: str, params: Mapping[str, object]) -> Outcome:
    if member is None or member.phone is None:
        return Unreachable(staff_id, template_code)
    return Notice("staff", member.phone, template_code, {**params, "staff_name": member.name}, recipient_id=staff_id)


def to_heads(heads: Sequence[StaffMember], template_code: str, params: Mapping[str, object]) -> list[Outcome]:
    if not heads:
        return [Unreachable(CENTRE_HEAD, template_code)]
    return [to_staff(h.staff_id, h, template_code, params) for h in heads]


# --- a case to hold, a bad rating, a complaint (docs/adr/0029-sms-templates.md) ---------------------------

def case_to_hold(event: CaseAssigned | CaseTransferred, reach: Reach, *, case_no: str, item_name: str) -> list[Outcome]:
    """分办 / 转办: the staff member who now holds the case; nobody while the general window holds it (the
    deadline warning then goes to the centre head)."""
    params: dict[str, object] = {"case_no": case_no, "item_name": item_name}
    if isinstance(event, CaseAssigned):
        holder, params["deadline"] = event.payload.staff_id, event.payload.promised_deadline
    else:
        holder, params["transferred_from"] = event.payload.to_staff_id, department_name(event.payload.from_department_code)
    if holder is None:
        return []
    return [to_staff(holder, reach.holder, "case_to_hold", params)]


def bad_rating(event: CaseRated, reach: Reach, *, case_no: str, item_name: str) -> list[Outcome]:
    """差评: the centre head(s), who owe the resident a follow-up (回访); the rater is never named."""
    p = event.payload
    if not p.bad_rating:
        return []
    return to_heads(reach.heads, "bad_rating", {"case_no": case_no, "item_name": item_name, "score": p.score,
                                                 "comment": p.comment})


def complaint(event: ComplaintRegistered, reach: Reach) -> list[Outcome]:
    """投诉 / 举报: the centre head(s) pick who investigates; the complainant and the content stay in intake."""
    p = event.payload
    return to_heads(reach.heads, "complaint_registered", {
        "complaint_kind": p.complaint_kind, "complaint_no": p.complaint_no, "subject": p.subject, "deadline": p.answer_due,
        "about_staff": p.about_staff_id is not None})
