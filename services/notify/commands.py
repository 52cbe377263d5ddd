"""Notify's use cases on incoming events: keep the case's contact, decide the SMS, queue it.

Each runs inside the inbox transaction that records the event id, so an SMS is queued
exactly once per event however often Kafka delivers it.
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from contracts.envelope import Envelope, new_event_id
from contracts.events import CaseCompleted, CaseSubmitted, DeadlineBreached
from services.notify import domain, store, templates

log = logging.getLogger(__name__)


async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted, *, now: datetime) -> None:
    await store.save_contact(conn, domain.contact_of(event), at=now)
    await _queue(conn, event, domain.notices_for_submitted(event), now=now)


async def on_case_completed(conn: asyncpg.Connection, event: CaseCompleted, *, now: datetime) -> None:
    # An unknown contact raises ContactUnknown on purpose: CaseSubmitted travels on another topic with no
    # order relative to this one, so it may just not be applied yet. Raising rolls back, and the inbox
    # retries with growing delays while the CaseSubmitted subscriber keeps consuming; if the contact never
    # comes, the event is dead-lettered with the reason, so a missed resident SMS is visible, not dropped.
    contact = await store.load_contact(conn, event.case_id)
    await _queue(conn, event, domain.notices_for_completed(event, contact), now=now)


async def on_deadline_breached(conn: asyncpg.Connection, event: DeadlineBreached, *, now: datetime) -> None:
    # Same choice as on_case_completed: the case_no shown to staff comes from the contact. A township
    # with no duty phone at all raises NoDutyContact and ends in the dead letters the same way.
    contact = await store.load_contact(conn, event.case_id)
    directory = await store.load_directory(conn, event.township_id)
    await _queue(conn, event, domain.notices_for_breach(event, contact, directory), now=now)


async def _queue(conn: asyncpg.Connection, event: Envelope, notices: list[domain.Notice], *, now: datetime) -> None:
    for notice in notices:
        queued = await store.queue_message(
            conn, message_id=new_event_id(), case_id=event.case_id, township_id=event.township_id,
            trigger_event_id=event.event_id, recipient_kind=notice.recipient_kind, phone=notice.phone,
            template_code=notice.template_code, text=templates.render(notice.template_code, notice.params), at=now,
        )
        log.info("sms queued" if queued else "sms already queued",
                 extra={"case_id": str(event.case_id), "event_id": str(event.event_id),
                        "township_id": event.township_id, "template_code": notice.template_code})
