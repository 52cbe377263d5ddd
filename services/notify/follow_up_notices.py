"""Notify's pure rules for the bad-rating loop (差评闭环, contracts/rating_events.py):

    FollowUpOpened        -> resident  rating_received: received, contacted within N working days
                          -> the owner (谁办理谁负责) follow_up_opened; the centre head(s) too, each once
    RectificationRecorded -> resident  rectification_answer: the answer, and whether they may rate again
    RatingAppealed        -> the centre head(s) rating_appealed, to decide
    RatingAppealDecided   -> the appellant rating_appeal_decided
    FollowUpRecorded      -> nobody (the visit itself spoke to the resident)

The deadlines of the visit and of the rectification warn and breach like any other (staff_notices.py),
in follow-up words. The rater is never named to staff; what staff typed reaches the resident cleaned
and cut like every typed text (templates.py).
"""

from __future__ import annotations

from contracts.envelope import Envelope
from contracts.rating_events import (
    FollowUpOpened,
    RatingAppealDecided,
    RatingAppealed,
    RectificationRecorded,
)
from services.notify.recipients import Notice, Reach, StaffMember, Unreachable
from services.notify.staff_notices import department_name, to_heads, to_staff

Outcome = Notice | Unreachable
EVENTS = (FollowUpOpened, RectificationRecorded, RatingAppealed, RatingAppealDecided)
STAFF_FACING = (FollowUpOpened, RatingAppealed, RatingAppealDecided)


def named_staff(event: Envelope) -> str | None:
    """The staff member the event names, to look up with the township's centre heads."""
    match event:
        case FollowUpOpened():
            return event.payload.owner_staff_id
        case RatingAppealed() | RatingAppealDecided():
            return event.payload.appellant_staff_id
    return None


def notices_for(event: Envelope, *, phone: str | None, applicant_name: str, case_no: str, item_name: str,
                reach: Reach) -> list[Outcome]:
    """Whom one event of the loop reaches; `phone` None when the resident's number was erased."""
    case = {"case_no": case_no, "item_name": item_name}
    match event:
        case FollowUpOpened():
            return [*_to_resident(phone, "rating_received", {
                **case, "applicant_name": applicant_name, "days": event.payload.visit_limit_days,
                "deadline": event.payload.visit_due}), *opened(event, reach, **case)]
        case RectificationRecorded():
            answer = event.payload
            return _to_resident(phone, "rectification_answer", {
                **case, "applicant_name": applicant_name, "answer": answer.answer_to_resident,
                "rate_again": answer.rate_again})
        case RatingAppealed():
            appeal = event.payload
            return to_heads(reach.heads, "rating_appealed", {
                **case, "appellant": _label(appeal.appellant_staff_id, reach.holder), "ground": appeal.ground,
                "reason": appeal.reason})
        case RatingAppealDecided():
            decision = event.payload
            return [to_staff(decision.appellant_staff_id, reach.holder, "rating_appeal_decided",
                             {**case, "upheld": decision.upheld, "reason": decision.reason})]
    raise TypeError(f"not an event of the rating loop: {event.event_type}")


def opened(event: FollowUpOpened, reach: Reach, *, case_no: str, item_name: str) -> list[Outcome]:
    """The owner learns both deadlines; every centre head watches, and owns it when nobody handled the case."""
    p = event.payload
    params = {"case_no": case_no or p.case_no, "item_name": item_name, "score": p.score,
              "visit_due": p.visit_due, "rectification_due": p.rectification_due}
    told = [] if p.owner_staff_id is None else [to_staff(p.owner_staff_id, reach.holder, "follow_up_opened", params)]
    heads = tuple(h for h in reach.heads if h.staff_id != p.owner_staff_id)
    if heads or not reach.heads:
        told += to_heads(heads, "follow_up_opened", {
            **params, "owner": "" if p.owner_staff_id is None else _label(p.owner_staff_id, reach.holder)})
    return told


def _label(staff_id: str, member: StaffMember | None) -> str:
    """`社保站王芳`, or the staff id when notify has no name for them."""
    return department_name(member.department_code) + member.name if member else staff_id


def _to_resident(phone: str | None, template_code: str, params: dict[str, object]) -> list[Outcome]:
    # An erased number is the resident's choice: nothing to send, nothing to record.
    return [] if phone is None else [Notice("resident", phone, template_code, params)]
