"""Notify's pure rules: which event tells whom with which template, phone masking, send retries.

    CaseSubmitted     -> resident  case_submitted
    CaseCompleted     -> resident  case_completed_granted | case_completed_refused
    DeadlineBreached  -> staff     deadline_breached (department's duty phone, else the centre head)

Nothing is sent about an event older than the configured age, and nothing to a resident whose
number was erased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from contracts.envelope import Envelope, NewEvent
from contracts.errors import DomainError
from contracts.events import (
    CaseCompleted,
    CaseSubmitted,
    DeadlineBreached,
    NotificationSent,
    NotificationSentPayload,
    RecipientKind,
)
from contracts.personal_data import mask_phone

MessageStatus = Literal["queued", "sent", "failed"]


class NoDutyContact(DomainError):
    status, code, message = 409, "DUTY_CONTACT_MISSING", "该乡镇未登记值班电话，无法发送超期提醒"


@dataclass(frozen=True)
class KnownCase:
    """What notify keeps of a case from its CaseSubmitted."""

    case_id: UUID
    township_id: str
    case_no: str
    item_name: str
    department_code: str
    applicant_name: str


@dataclass(frozen=True)
class Contact(KnownCase):
    """A case and its applicant's number, from the contact topic; None once erased."""

    phone: str | None  # E.164


@dataclass(frozen=True)
class DutyContact:
    township_id: str
    department_code: str | None  # None: the centre head
    name: str
    phone: str


@dataclass(frozen=True)
class Notice:
    """One SMS to queue: who receives it and which template renders it with which values."""

    recipient_kind: RecipientKind
    phone: str
    template_code: str
    params: Mapping[str, object]


@dataclass(frozen=True)
class QueuedMessage:
    """A message claimed by the sender."""

    message_id: UUID
    case_id: UUID
    township_id: str
    trigger_event_id: UUID
    recipient_kind: RecipientKind
    phone: str
    template_code: str
    text: str
    attempts: int  # attempts made before this one


def case_of(event: CaseSubmitted) -> KnownCase:
    p = event.payload
    return KnownCase(case_id=event.case_id, township_id=event.township_id, case_no=p.case_no, item_name=p.item_name,
                     department_code=p.department_code, applicant_name=p.applicant_name)


def needs_directory(event: Envelope) -> bool:
    """Staff are told through the township's duty directory."""
    return isinstance(event, DeadlineBreached)


def notices_for(event: Envelope, contact: Contact, directory: Sequence[DutyContact]) -> list[Notice]:
    match event:
        case CaseSubmitted():
            return notices_for_submitted(event, contact)
        case CaseCompleted():
            return notices_for_completed(event, contact)
        case DeadlineBreached():
            return notices_for_breach(event, contact, directory)
    raise TypeError(f"notify has no rule for {event.event_type}")


def notices_for_submitted(event: CaseSubmitted, contact: Contact) -> list[Notice]:
    """受理: the resident learns the case number and the promised deadline (unless their number was erased)."""
    if contact.phone is None:
        return []
    p = event.payload
    return [Notice("resident", contact.phone, "case_submitted", {
        "applicant_name": p.applicant_name, "item_name": p.item_name, "case_no": p.case_no,
        "deadline": p.promised_deadline, "tolerated_missing": bool(p.materials_tolerated_missing)})]


def notices_for_completed(event: CaseCompleted, contact: Contact) -> list[Notice]:
    """办结: the resident learns the result; a refusal names the grounds and the appeal route."""
    if contact.phone is None:
        return []
    return [Notice("resident", contact.phone, f"case_completed_{event.payload.result}", {
        "applicant_name": contact.applicant_name, "item_name": contact.item_name, "case_no": contact.case_no,
        "note": event.payload.note})]


def notices_for_breach(event: DeadlineBreached, contact: Contact,
                       directory: Sequence[DutyContact]) -> list[Notice]:
    """超期: the duty phone of the department holding the case, else the centre head, is told how late it is."""
    p = event.payload
    duty, via_head = duty_contact(directory, township_id=event.township_id, department_code=p.department_code)
    return [Notice("staff", duty.phone, "deadline_breached", {
        "staff_name": duty.name, "case_no": contact.case_no, "item_name": contact.item_name,
        "deadline": p.promised_deadline, "late": lateness(p.promised_deadline, p.detected_at),
        "via_centre_head": via_head})]


def too_old_to_announce(event: Envelope, *, now: datetime, max_age: timedelta) -> bool:
    """A message about an event older than `max_age` is news to nobody: a new consumer group that
    replays the topics, or a long outage, must not text every past resident again."""
    return now - event.occurred_at > max_age


def duty_contact(directory: Sequence[DutyContact], *, township_id: str,
                 department_code: str) -> tuple[DutyContact, bool]:
    """(whom to tell, whether it fell back to the centre head)."""
    in_township = {d.department_code: d for d in directory if d.township_id == township_id}
    if department_code in in_township:
        return in_township[department_code], False
    if None in in_township:
        return in_township[None], True
    raise NoDutyContact(details={"township_id": township_id})


def lateness(deadline: datetime, detected_at: datetime) -> timedelta:
    return max(detected_at - deadline, timedelta(0))


@dataclass(frozen=True)
class SendPolicy:
    """Retries towards the provider: exponential backoff, then `failed` for good."""

    max_attempts: int = 5
    first_delay: float = 5.0
    max_delay: float = 600.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay))

    def after_failure(self, *, attempts: int, now: datetime) -> tuple[MessageStatus, datetime]:
        """Status and next attempt time once `attempts` attempts (this one included) have failed."""
        if attempts >= self.max_attempts:
            return "failed", now
        return "queued", now + self.delay(attempts)


def decide_sent(message: QueuedMessage, *, provider: str, provider_message_id: str) -> list[NewEvent]:
    """The fact that the provider took the SMS; the phone travels only masked."""
    return [NewEvent(NotificationSent, NotificationSentPayload(
        message_id=message.message_id, recipient_kind=message.recipient_kind,
        recipient_masked=mask_phone(message.phone), template_code=message.template_code,
        trigger_event_id=message.trigger_event_id, provider=provider, provider_message_id=provider_message_id))]
