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
from uuid import UUID

import asyncpg

from contracts.contacts import CaseContact
from contracts.envelope import Envelope, new_event_id
from contracts.events import CaseSubmitted
from contracts.personal_data import mask_phone
from contracts.topics import INTAKE_CONTACTS
from services.kit.deadletters import forget_value
from services.notify import domain, store, templates

log = logging.getLogger(__name__)


async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted, *, now: datetime,
                            max_age: timedelta) -> None:
    """Keep the case; tell the resident once their number is here too."""
    await store.lock_case(conn, event.case_id)
    await store.save_case(conn, domain.case_of(event), at=now)
    await on_case_event(conn, event, now=now, max_age=max_age, locked=True)


async def on_case_event(conn: asyncpg.Connection, event: Envelope, *, now: datetime, max_age: timedelta,
                        locked: bool = False) -> None:
    """Announce the event if the case and its number are here, else park it until they are."""
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


async def _erase(conn: asyncpg.Connection, case_id: UUID, *, now: datetime) -> None:
    """个人信息删除: the number goes from every table of notify; masked copies stay as the record of what was sent."""
    previous = await store.erase_phone(conn, case_id, at=now)
    if previous is not None:
        await store.mask_resident_messages(conn, case_id, masked=mask_phone(previous))
    await forget_value(conn, topic=INTAKE_CONTACTS, key=str(case_id).encode())
    log.info("resident contact erased", extra={"case_id": str(case_id)})


async def _announce(conn: asyncpg.Connection, event: Envelope, contact: domain.Contact, *, now: datetime,
                    max_age: timedelta) -> None:
    if domain.too_old_to_announce(event, now=now, max_age=max_age):
        log.info("event too old to announce; no SMS", extra={"case_id": str(event.case_id),
                                                              "event_id": str(event.event_id)})
        return
    directory = await store.load_directory(conn, event.township_id) if domain.needs_directory(event) else []
    for notice in domain.notices_for(event, contact, directory):
        queued = await store.queue_message(
            conn, message_id=new_event_id(), case_id=event.case_id, township_id=event.township_id,
            trigger_event_id=event.event_id, recipient_kind=notice.recipient_kind, phone=notice.phone,
            template_code=notice.template_code, text=templates.render(notice.template_code, notice.params), at=now,
        )
        log.info("sms queued" if queued else "sms already queued",
                 extra={"case_id": str(event.case_id), "event_id": str(event.event_id),
                        "township_id": event.township_id, "template_code": notice.template_code})
