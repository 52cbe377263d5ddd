"""Notify's pure rules for what residents are told beyond the case's own events (domain.py):

    MaterialsRequested (一次性告知)               -> every material still missing or faulty, by name, at once
    DeadlineWarning of a tolerated material (容缺) -> the resident too: what to bring and by when
    a rating link (短信评价链接)                   -> the invitation to rate, which needs no login
    a second rating link (整改后再评价)             -> the invitation to rate again

Like every resident message, nothing goes to a number that was erased.
"""

from __future__ import annotations

from datetime import datetime

from contracts.events import DeadlineWarning, MaterialsRequested
from services.notify.recipients import Notice

TOLERATED = "tolerated_material"


def reminds_resident(event: DeadlineWarning) -> bool:
    """A tolerated material falls due: the resident owes it, so the resident hears of it, not only staff."""
    return event.payload.deadline_kind == TOLERATED


def materials_requested(event: MaterialsRequested, phone: str | None) -> list[Notice]:
    p = event.payload
    if phone is None:
        return []
    return [Notice("resident", phone, "materials_requested", {
        "applicant_name": p.applicant_name, "item_name": p.item_name, "case_no": p.case_no,
        "materials": [m.name for m in p.materials]})]


def tolerated_material_due(event: DeadlineWarning, phone: str | None, *, applicant_name: str) -> list[Notice]:
    p = event.payload
    if phone is None or not reminds_resident(event):
        return []
    return [Notice("resident", phone, "tolerated_material_due", {
        "applicant_name": applicant_name, "case_no": p.case_no, "subject": p.subject, "deadline": p.promised_deadline})]


def rating_invitation(phone: str | None, *, case_no: str, link: str, expires_at: datetime,
                      again: bool = False) -> list[Notice]:
    """`link` is the path of intake's rating page with the token (made by intake, ADR 21); the template puts
    the county's public address in front of it. `again`: the link to rate after a rectification asked for it."""
    if phone is None:
        return []
    return [Notice("resident", phone, "rating_again_invitation" if again else "rating_invitation",
                   {"case_no": case_no, "link": link, "expires": expires_at})]
