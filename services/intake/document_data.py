"""What the printed documents of a case say, folded from the case's intake events: pure, no I/O.

Documents are never stored: each is rebuilt from the history whenever it is printed, so a reprint
says what the events say (docs/adr/0019-printed-documents.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from contracts.envelope import Envelope
from contracts.events import (
    ApplicationFields,
    CaseReferred,
    CaseRejectedAtIntake,
    CaseSubmitted,
    MaterialsRequested,
    MaterialsSupplied,
    NoticeMaterial,
    ToleratedMaterialDue,
)


@dataclass(frozen=True)
class OwedMaterial:
    """A tolerated material (容缺) still to be brought; `due` unknown until ToleratedMaterialDue says it."""

    code: str
    name: str
    due: datetime | None = None
    due_provisional: bool = False


@dataclass(frozen=True)
class Receipt:
    """受理回执: the case was accepted."""

    application: ApplicationFields
    accepted_at: datetime
    materials_received: tuple[str, ...]  # names, in the order they came
    owed: tuple[OwedMaterial, ...]
    promised_limit_days: int
    promised_deadline: datetime
    deemed_accepted: bool
    deadline_provisional: bool = False


@dataclass(frozen=True)
class Notice:
    """一次性告知书: every missing or faulty material, all at once."""

    application: ApplicationFields
    notice_no: int
    given_at: datetime
    materials: tuple[NoticeMaterial, ...]
    second_notice: bool
    requirements_changed_from: str | None


@dataclass(frozen=True)
class Rejection:
    """不予受理通知书. `application` is None when no earlier event of the case described it."""

    application: ApplicationFields | None
    rejected_at: datetime
    reason: str
    legal_basis: str
    approved_by: str


@dataclass(frozen=True)
class Referral:
    """转介告知单: the matter is not the township's; where to go instead."""

    referred_at: datetime
    matter: str
    referred_to: str
    address: str
    office_hours: str
    note: str
    first_contact_staff_id: str | None


@dataclass(frozen=True)
class CaseDocuments:
    case_id: UUID
    township_id: str
    application: ApplicationFields | None = None
    receipt: Receipt | None = None
    notices: Mapping[int, Notice] = field(default_factory=dict)
    rejection: Rejection | None = None
    referral: Referral | None = None


def _received(receipt: Receipt, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*receipt.materials_received, *names]))


def evolve(docs: CaseDocuments, event: Envelope, material_names: Mapping[str, str]) -> CaseDocuments:
    """One event's effect on the case's documents; events of other kinds change nothing."""
    def name(code: str) -> str:
        return material_names.get(code, code)  # a code no longer in the catalogue prints as itself

    if isinstance(event.payload, ApplicationFields):
        docs = replace(docs, application=event.payload)
    match event:
        case CaseSubmitted(payload=sub):
            receipt = Receipt(
                application=sub, accepted_at=event.occurred_at,
                materials_received=tuple(name(c) for c in sub.materials_provided),
                owed=tuple(OwedMaterial(c, name(c)) for c in sub.materials_tolerated_missing),
                promised_limit_days=sub.promised_limit_days, promised_deadline=sub.promised_deadline,
                deemed_accepted=sub.deemed_accepted, deadline_provisional=sub.deadline_provisional)
            return replace(docs, receipt=receipt)
        case MaterialsRequested(payload=req):
            notice = Notice(application=req, notice_no=req.notice_no, given_at=event.occurred_at,
                            materials=tuple(req.materials), second_notice=req.second_notice,
                            requirements_changed_from=req.requirements_changed_from)
            return replace(docs, notices={**docs.notices, req.notice_no: notice})
        case ToleratedMaterialDue() if docs.receipt is not None:
            due = {m.code: OwedMaterial(m.code, m.name, event.payload.due, event.payload.due_provisional)
                   for m in event.payload.materials}
            kept = tuple(m for m in docs.receipt.owed if m.code not in due)
            return replace(docs, receipt=replace(docs.receipt, owed=kept + tuple(due.values())))
        case MaterialsSupplied() if docs.receipt is not None:
            still = set(event.payload.still_owed)
            receipt = replace(docs.receipt, owed=tuple(m for m in docs.receipt.owed if m.code in still),
                              materials_received=_received(docs.receipt, (name(c) for c in event.payload.materials)))
            return replace(docs, receipt=receipt)
        case CaseRejectedAtIntake(payload=rej):
            return replace(docs, rejection=Rejection(application=docs.application, rejected_at=event.occurred_at,
                                                     reason=rej.reason, legal_basis=rej.legal_basis,
                                                     approved_by=rej.approved_by))
        case CaseReferred(payload=ref):
            return replace(docs, referral=Referral(
                referred_at=event.occurred_at, matter=ref.matter, referred_to=ref.referred_to, address=ref.address,
                office_hours=ref.office_hours, note=ref.note, first_contact_staff_id=ref.first_contact_staff_id))
    return docs


def fold(case_id: UUID, township_id: str, events: Iterable[Envelope], material_names: Mapping[str, str]) -> CaseDocuments:
    """The documents of a case from its intake events in stream order."""
    docs = CaseDocuments(case_id=case_id, township_id=township_id)
    for event in events:
        docs = evolve(docs, event, material_names)
    return docs
