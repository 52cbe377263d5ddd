"""Notify's use cases on incoming events: keep the case's contact, decide the SMS, queue it.

Each runs inside the inbox transaction that records the event id, so an SMS is queued
exactly once per event however often Kafka delivers it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg

from contracts.envelope import Envelope, new_event_id
from contracts.events import CaseCompleted, CaseSubmitted, DeadlineBreached
from services.notify import domain, store, templates

log = logging.getLogger(__name__)


async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted, *, now: datetime,
                            max_age: timedelta) -> None:
    """Keep the contact, tell the resident, then release what waited for this contact."""
    await store.lock_case(conn, event.case_id)
    await store.save_contact(conn, domain.contact_of(event), at=now)
    await _queue(conn, event, domain.notices_for_submitted(event), now=now, max_age=max_age)
    for parked in await store.release_parked(conn, event.case_id):
        await on_routing_event(conn, parked, now=now, max_age=max_age)


async def on_routing_event(conn: asyncpg.Connection, event: Envelope, *, now: datetime, max_age: timedelta) -> None:
    """CaseCompleted and DeadlineBreached name the case by its contact (case number, phone).

    CaseSubmitted comes on intake's topic, with no order relative to routing's, so the contact may
    not be here yet: the event is then parked in this same transaction, without blocking the
    partition, and released by on_case_submitted.
    """
    await store.lock_case(conn, event.case_id)
    contact = await store.load_contact(conn, event.case_id)
    if contact is None:
        await store.park(conn, event, at=now)
        log.info("event parked until its case's contact arrives",
                 extra={"case_id": str(event.case_id), "event_id": str(event.event_id)})
        return
    match event:
        case CaseCompleted():
            notices = domain.notices_for_completed(event, contact)
        case DeadlineBreached():
            notices = domain.notices_for_breach(event, contact, await store.load_directory(conn, event.township_id))
        case _:
            raise TypeError(f"notify has no rule for {event.event_type}")
    await _queue(conn, event, notices, now=now, max_age=max_age)


async def _queue(conn: asyncpg.Connection, event: Envelope, notices: list[domain.Notice], *, now: datetime,
                 max_age: timedelta) -> None:
    if domain.too_old_to_announce(event, now=now, max_age=max_age):
        log.info("event too old to announce; no SMS", extra={"case_id": str(event.case_id),
                                                              "event_id": str(event.event_id)})
        return
    for notice in notices:
        queued = await store.queue_message(
            conn, message_id=new_event_id(), case_id=event.case_id, township_id=event.township_id,
            trigger_event_id=event.event_id, recipient_kind=notice.recipient_kind, phone=notice.phone,
            template_code=notice.template_code, text=templates.render(notice.template_code, notice.params), at=now,
        )
        log.info("sms queued" if queued else "sms already queued",
                 extra={"case_id": str(event.case_id), "event_id": str(event.event_id),
                        "township_id": event.township_id, "template_code": notice.template_code})
