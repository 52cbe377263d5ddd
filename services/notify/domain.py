"""Notify's pure rules: which event tells whom with which template, phone masking, send retries.

    CaseSubmitted        -> resident  case_submitted
    CaseCompleted        -> resident  case_completed_granted | case_completed_refused
    DeadlineExtended     -> resident  deadline_extended
    DeadlineRecalculated -> resident  deadline_recalculated (only when the day moved)
    ClockPaused          -> resident  clock_paused (not for materials: intake's 补正 notice said it)
    ClockResumed         -> resident  clock_resumed (only when the pause moved the deadline)
    DeadlineWarning, DeadlineBreached, CaseFlagged -> staff (services/notify/staff_notices.py)
    MaterialsRequested, a tolerated material's DeadlineWarning -> resident (services/notify/resident_notices.py)
    CaseAssigned, CaseTransferred, CaseRated, ComplaintRegistered -> staff (services/notify/staff_notices.py)
    FollowUpOpened, RectificationRecorded, RatingAppealed, RatingAppealDecided -> the bad-rating loop's
        resident and staff (services/notify/follow_up_notices.py)

Nothing is sent about an event older than the configured age, and nothing to a resident whose
number was erased.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from contracts.envelope import Envelope, NewEvent
from contracts.events import (
    CaseAssigned,
    CaseCompleted,
    CaseFlagged,
    CaseRated,
    CaseSubmitted,
    CaseTransferred,
    ClockPaused,
    ClockResumed,
    ComplaintRegistered,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineRecalculated,
    DeadlineWarning,
    MaterialsRequested,
    NotificationSent,
    NotificationSentPayload,
    RecipientKind,
)
from contracts.personal_data import mask_phone
from contracts.workdays import chinese_date
from services.notify import follow_up_notices, resident_notices, staff_notices
from services.notify.recipients import Notice, Reach, Unreachable

MessageStatus = Literal["queued", "sent", "failed"]
Outcome = Notice | Unreachable

# What a deadline event says on its own (case number, subject, holder): it waits for no CaseSubmitted,
# so a complaint's deadline, which has none, reaches staff too.
SELF_CONTAINED = (DeadlineWarning, DeadlineBreached, ComplaintRegistered)
STAFF_FACING = (*SELF_CONTAINED, CaseFlagged, CaseAssigned, CaseTransferred, CaseRated,
                *follow_up_notices.STAFF_FACING)
# Events that make notify know a case (ApplicationFields): the one-time notice comes before acceptance.
OPENS_CASE = (CaseSubmitted, MaterialsRequested)
NOBODY = Reach()  # no staff known: what resident-facing events are given


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
    agent_id: str | None = None  # the village agent who passes messages on when the applicant has no mobile
    agent_phone: str | None = None  # that agent's work number, once routing published it


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
    created_at: datetime | None = None  # when it was queued: the merge window counts from it
    waiting_for: str | None = None  # the sending rule that held it last
    next_attempt_at: datetime | None = None


def case_of(event: CaseSubmitted | MaterialsRequested) -> KnownCase:
    p = event.payload
    return KnownCase(case_id=event.case_id, township_id=event.township_id, case_no=p.case_no, item_name=p.item_name,
                     department_code=p.department_code, applicant_name=p.applicant_name)


def needs_case(event: Envelope) -> bool:
    """The event waits (parked) for its case and the applicant's number before anyone is told; a warning
    about a tolerated material does too, since the resident who owes it is told as well."""
    if isinstance(event, DeadlineWarning):
        return resident_notices.reminds_resident(event)
    return not isinstance(event, SELF_CONTAINED)


def tells_staff(event: Envelope) -> bool:
    """Staff are told: the holder it names and the township's centre heads are looked up."""
    return isinstance(event, STAFF_FACING)


def is_silent(event: Envelope) -> bool:
    """Nobody is told, whatever notify knows: a pause for materials was announced by intake's 补正 notice."""
    return isinstance(event, ClockPaused) and event.payload.reason == "materials"


def notices_for(event: Envelope, contact: Contact | None = None, reach: Reach = NOBODY) -> list[Outcome]:
    """Whom the event reaches; `contact` for events that need the case, `reach` for staff-facing ones."""
    match event:
        case DeadlineWarning():
            to_resident = [] if contact is None else resident_notices.tolerated_material_due(
                event, contact.phone, applicant_name=contact.applicant_name)
            return [*staff_notices.warning(event, reach), *to_resident]
        case DeadlineBreached():
            return staff_notices.breach(event, reach)
        case ComplaintRegistered():
            return staff_notices.complaint(event, reach)
    if contact is None:
        raise TypeError(f"{event.event_type} needs its case and contact")
    if isinstance(event, follow_up_notices.EVENTS):
        return follow_up_notices.notices_for(event, phone=contact.phone, applicant_name=contact.applicant_name,
                                             case_no=contact.case_no, item_name=contact.item_name, reach=reach)
    match event:
        case CaseFlagged():
            return staff_notices.flag(event, reach, case_no=contact.case_no, item_name=contact.item_name)
        case CaseSubmitted():
            return notices_for_submitted(event, contact)
        case MaterialsRequested():
            return list(resident_notices.materials_requested(event, contact.phone))
        case CaseAssigned() | CaseTransferred():
            return staff_notices.case_to_hold(event, reach, case_no=contact.case_no, item_name=contact.item_name)
        case CaseRated():
            return staff_notices.bad_rating(event, reach, case_no=contact.case_no, item_name=contact.item_name)
        case CaseCompleted():
            return notices_for_completed(event, contact)
        case DeadlineExtended():
            return notices_for_extended(event, contact)
        case DeadlineRecalculated():
            return notices_for_recalculated(event, contact)
        case ClockPaused():
            return notices_for_paused(event, contact)
        case ClockResumed():
            return notices_for_resumed(event, contact)
    raise TypeError(f"notify has no rule for {event.event_type}")


def notices_for_submitted(event: CaseSubmitted, contact: Contact) -> list[Outcome]:
    """受理: the resident learns the case number and the promised deadline (unless their number was erased)."""
    p = event.payload
    return _to_resident(contact, "case_submitted", {
        "applicant_name": p.applicant_name, "item_name": p.item_name, "case_no": p.case_no,
        "deadline": p.promised_deadline, "tolerated_missing": bool(p.materials_tolerated_missing),
        "provisional": p.deadline_provisional})


def notices_for_completed(event: CaseCompleted, contact: Contact) -> list[Outcome]:
    """办结: the resident learns the result; a refusal names the grounds and the appeal route."""
    return _to_resident(contact, f"case_completed_{event.payload.result}", {
        **_case_params(contact), "note": event.payload.note})


def notices_for_extended(event: DeadlineExtended, contact: Contact) -> list[Outcome]:
    """延期: the resident learns the new deadline, by how much and why (行政许可法 第四十二条)."""
    p = event.payload
    return _to_resident(contact, "deadline_extended", {
        **_case_params(contact), "days": p.extension_working_days, "reason": p.reason, "deadline": p.promised_deadline,
        "provisional": p.deadline_provisional})


def notices_for_recalculated(event: DeadlineRecalculated, contact: Contact) -> list[Outcome]:
    """The official holiday schedule moved the deadline: the resident learns the corrected day; a deadline
    that stays on the same day is news to nobody."""
    p = event.payload
    if chinese_date(p.previous_deadline) == chinese_date(p.promised_deadline):
        return []
    return _to_resident(contact, "deadline_recalculated", {
        **_case_params(contact), "deadline": p.promised_deadline, "previous": p.previous_deadline,
        "years": p.calendar_years, "provisional": p.deadline_provisional})


def notices_for_paused(event: ClockPaused, contact: Contact) -> list[Outcome]:
    """听证, 检验, 检测, 鉴定, 专家评审: the resident is told the time is not counted (行政许可法 第四十五条)."""
    if is_silent(event):
        return []
    return _to_resident(contact, "clock_paused", {
        **_case_params(contact), "reason": event.payload.reason, "note": event.payload.note})


def notices_for_resumed(event: ClockResumed, contact: Contact) -> list[Outcome]:
    """The clock runs again: the resident learns the deadline the pause moved (nothing if it did not move)."""
    p = event.payload
    if p.paused_working_days == 0:
        return []
    return _to_resident(contact, "clock_resumed", {
        **_case_params(contact), "deadline": p.promised_deadline, "provisional": p.deadline_provisional})


def _case_params(contact: Contact) -> dict[str, object]:
    return {"applicant_name": contact.applicant_name, "item_name": contact.item_name, "case_no": contact.case_no}


def _to_resident(contact: Contact, template_code: str, params: dict[str, object]) -> list[Outcome]:
    # An erased number is the resident's choice, not a failure: nothing to send, nothing to record.
    if contact.phone is None:
        return []
    return [Notice("resident", contact.phone, template_code, params)]


def too_old_to_announce(event: Envelope, *, now: datetime, max_age: timedelta) -> bool:
    """A message about an event older than `max_age` is news to nobody: a new consumer group that
    replays the topics, or a long outage, must not text every past resident again."""
    return now - event.occurred_at > max_age


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
