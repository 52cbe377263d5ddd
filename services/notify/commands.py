"""Notify's use cases on incoming events and contact records: keep what it needs of each case,
decide the SMS, queue it.

Each runs inside the transaction that records the event id (or applies the contact record), so
an SMS is queued exactly once per event however often Kafka delivers it.

A message needs two things that come on different topics with no mutual order: the case (its
CaseSubmitted, on intake's case topic) and the applicant's number (on the contact topic). An
event that arrives before both are here is parked in the same transaction, without blocking its
partition, and released, in its producer's order, by whichever of the two arrives last.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID, uuid5

import asyncpg

from contracts.contacts import CaseContact, StaffContact
from contracts.envelope import Envelope, new_event_id
from contracts.events import (
    CaseAssigned,
    CaseSubmitted,
    CaseTransferred,
    ComplaintRegistered,
    DeadlineBreached,
    DeadlineWarning,
    MaterialsRequested,
)
from contracts.personal_data import mask_phone
from contracts.topics import INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS
from services.kit.deadletters import forget_value
from services.notify import domain, follow_up_notices, outcome_store, resident_notices, store, templates, via_agent
from services.notify.metrics import record_unreachable
from services.notify.recipients import Notice, Reach, Unreachable

log = logging.getLogger(__name__)


async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted | MaterialsRequested, *, now: datetime,
                            max_age: timedelta) -> None:
    """Keep the case; tell the resident once their number is here too."""
    await store.lock_case(conn, event.case_id)
    await store.save_case(conn, domain.case_of(event), at=now)
    await on_case_event(conn, event, now=now, max_age=max_age, locked=True)


async def on_case_event(conn: asyncpg.Connection, event: Envelope, *, now: datetime, max_age: timedelta,
                        locked: bool = False) -> None:
    """Announce the event if the case and its number are here, else park it until they are."""
    if domain.is_silent(event):
        return
    if not locked:
        await store.lock_case(conn, event.case_id)
    contact = await store.load_contact(conn, event.case_id)
    if contact is None:
        await store.park(conn, event, at=now)
        log.info("event parked until its case and contact arrive",
                 extra={"case_id": str(event.case_id), "event_id": str(event.event_id)})
        return
    # In producer order: a CaseSubmitted arriving last still goes before the completion that waited for it.
    for ready in sorted([*await store.release_parked(conn, event.case_id), event], key=store.producer_order):
        await _announce(conn, ready, contact, now=now, max_age=max_age)


async def on_deadline_event(conn: asyncpg.Connection, event: DeadlineWarning | DeadlineBreached | ComplaintRegistered,
                            *, now: datetime, max_age: timedelta) -> None:
    """Tell staff at once: the event names what is due and who holds it. One the resident hears of too
    (a tolerated material falls due) waits for the case like the case's own events."""
    if domain.needs_case(event):
        await on_case_event(conn, event, now=now, max_age=max_age)
        return
    await _announce(conn, event, None, now=now, max_age=max_age)


async def on_staff_contact(conn: asyncpg.Connection, staff_id: str, contact: StaffContact | None, *,
                           now: datetime) -> None:
    """Keep a staff member's number, or forget it when they left (a tombstone)."""
    if contact is not None:
        await store.save_staff_contact(conn, contact)
        return
    previous = await store.staff_left(conn, staff_id, at=now)
    if previous is not None:
        await store.mask_staff_messages(conn, staff_id, masked=mask_phone(previous))
    await forget_value(conn, topic=ROUTING_STAFF_CONTACTS, key=staff_id.encode())
    log.info("staff contact removed", extra={"staff_id": staff_id})


async def on_contact(conn: asyncpg.Connection, case_id: UUID, contact: CaseContact | None, *, now: datetime,
                     max_age: timedelta) -> None:
    """Keep the applicant's number, or erase it (a tombstone); then release what waited for it."""
    await store.lock_case(conn, case_id)
    if contact is None:
        await _erase(conn, case_id, now=now)
    else:
        await store.save_phone(conn, contact)
    ready = await store.load_contact(conn, case_id)
    if ready is not None:
        for parked in await store.release_parked(conn, case_id):
            await _announce(conn, parked, ready, now=now, max_age=max_age)
    if contact is not None and contact.rating_link is not None:
        await _invite_to_rate(conn, contact, ready, now=now, max_age=max_age)


async def _invite_to_rate(conn: asyncpg.Connection, contact: CaseContact, case: domain.Contact | None, *,
                          now: datetime, max_age: timedelta) -> None:
    """The rating link intake put on the contact record: texted once per link (its id is made from the link,
    so a redelivered or re-read record queues nothing new); an expired or stale one is news to nobody."""
    assert contact.rating_link is not None and contact.rating_link_expires_at is not None
    extra = {"case_id": str(contact.case_id), "township_id": contact.township_id}
    if case is None:
        log.warning("rating link for a case notify does not know; not texted", extra=extra)
        return
    if contact.rating_link_expires_at <= now or now - contact.recorded_at > max_age:
        log.info("rating link expired or too old to announce; no SMS", extra=extra)
        return
    for notice in via_agent.relayed(resident_notices.rating_invitation(
            via_agent.reaching(case).phone, case_no=case.case_no, link=contact.rating_link,
            expires_at=contact.rating_link_expires_at, again=contact.rating_round == 2), case):
        if isinstance(notice, Unreachable):
            log.warning("village agent not reachable: no number known; rating link not texted", extra=extra)
            continue
        await _queue(conn, notice, case_id=contact.case_id, township_id=contact.township_id,
                     trigger_id=uuid5(contact.case_id, contact.rating_link), now=now)


async def _erase(conn: asyncpg.Connection, case_id: UUID, *, now: datetime) -> None:
    """个人信息删除: the number goes from every table of notify; masked copies stay as the record of what was sent."""
    previous = await store.erase_phone(conn, case_id, at=now)
    if previous is not None:
        await store.mask_resident_messages(conn, case_id, masked=mask_phone(previous))
    await forget_value(conn, topic=INTAKE_CONTACTS, key=str(case_id).encode())
    log.info("resident contact erased", extra={"case_id": str(case_id)})


async def _announce(conn: asyncpg.Connection, event: Envelope, contact: domain.Contact | None, *, now: datetime,
                    max_age: timedelta) -> None:
    if domain.too_old_to_announce(event, now=now, max_age=max_age):
        log.info("event too old to announce; no SMS", extra={"case_id": str(event.case_id),
                                                              "event_id": str(event.event_id)})
        return
    reach = await _reach(conn, event) if domain.tells_staff(event) else domain.NOBODY
    outcomes = domain.notices_for(event, contact and via_agent.reaching(contact), reach)
    for outcome in via_agent.relayed(outcomes, contact) if contact is not None else outcomes:
        if isinstance(outcome, Unreachable):
            await _unreachable(conn, event, outcome, now=now)
            continue
        await _queue(conn, outcome, case_id=event.case_id, township_id=event.township_id, trigger_id=event.event_id,
                     now=now)


async def _queue(conn: asyncpg.Connection, notice: Notice, *, case_id: UUID, township_id: str, trigger_id: UUID,
                 now: datetime) -> None:
    """One message, once per trigger and recipient; one that cannot be written is kept as failed with the reason."""
    try:
        rendered, failed = templates.compose(notice.template_code, notice.params, township_id=township_id,
                                             relayed_for=notice.relayed_for), None
    except templates.TemplateError as exc:  # the consumer goes on: the row says what is wrong
        rendered, failed = templates.Rendered(text="", version="", segments=0), str(exc)
    queued = await store.queue_message(
        conn, message_id=(message_id := new_event_id()), case_id=case_id, township_id=township_id, trigger_event_id=trigger_id,
        recipient_kind=notice.recipient_kind, recipient_id=notice.recipient_id, phone=notice.phone,
        template_code=notice.template_code, text=rendered.text, at=now, segments=rendered.segments,
        template_version=rendered.version, failed=failed,
    )
    if queued and failed is None:  # what a provider's own pre-registered template is filled with: the values
        # exactly as our text shows them (cleaned, cut, in words), never the raw event values
        await outcome_store.save_params(conn, message_id, templates.shown_values(
            notice.template_code, notice.params, township_id=township_id))
    extra = {"case_id": str(case_id), "trigger_id": str(trigger_id), "township_id": township_id,
             "template_code": notice.template_code}
    if failed is not None and queued:
        log.error("sms not written: %s", failed, extra=extra)
    else:
        log.info("sms queued" if queued else "sms already queued", extra=extra)


async def _reach(conn: asyncpg.Connection, event: Envelope) -> Reach:
    """The holder the event names, as notify knows them, and the township's centre heads."""
    staff_id = (event.payload.staff_id if isinstance(event, DeadlineWarning | DeadlineBreached | CaseAssigned)
                else event.payload.to_staff_id if isinstance(event, CaseTransferred)
                else follow_up_notices.named_staff(event))
    holder = await store.load_staff(conn, staff_id) if staff_id else None
    return Reach(holder=holder, heads=await store.load_centre_heads(conn, event.township_id))


async def _unreachable(conn: asyncpg.Connection, event: Envelope, outcome: Unreachable, *, now: datetime) -> None:
    """Nobody can be texted: kept with the event id, counted and logged, so the centre follows it up by hand."""
    if not await store.record_unreachable(conn, trigger_event_id=event.event_id, recipient_id=outcome.recipient_id,
                                          case_id=event.case_id, township_id=event.township_id,
                                          template_code=outcome.template_code, at=now):
        return
    record_unreachable(outcome.template_code)
    log.warning("staff member not reachable: no number known; nobody texted",
                extra={"case_id": str(event.case_id), "event_id": str(event.event_id),
                       "township_id": event.township_id, "recipient_id": outcome.recipient_id,
                       "template_code": outcome.template_code})
