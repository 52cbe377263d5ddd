"""Kafka helpers for notify's integration tests on topics other suites share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

import httpx

from contracts.contacts import CaseContact, StaffContact
from contracts.envelope import Envelope
from contracts.events import CaseCompleted, CaseSubmitted
from contracts.topics import INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS
from services.kit.inbox import Inbox
from services.kit.testing import consume_until, publish_events, publish_records, running_app, start_group_at_end
from services.notify.app import create_app
from services.notify.settings import NotifySettings
from services.notify.tests.builders import CASES, contact_of
from services.notify.tests.rules_off import RULES_OFF

__all__ = ["consume_until", "erase", "notify_for_notices", "own_township", "publish", "publish_contacts",
           "publish_staff_contacts", "skip_other_suites_cases", "staff_left"]


def skip_other_suites_cases(inbox: Inbox) -> None:
    """Acknowledge, unprocessed, events of cases these tests did not build.

    Other suites publish on the same topics while this one runs (an end-to-end system moving its
    clock makes hundreds of DeadlineBreached for cases this fresh database never saw); each would
    wait out the contact retries and hold up the partition our events are on. The key is the case id.
    """
    process = inbox.process

    async def ours_only(msg, *args, **kwargs) -> None:
        if (msg.raw_message.key or b"").decode(errors="replace") not in CASES:
            await msg.ack()
            return
        await process(msg, *args, **kwargs)

    inbox.process = ours_only


async def publish(bootstrap: str, *events: Envelope, partition: int | None = None, contacts: bool = True) -> list:
    """Publishes the events; with `contacts`, each CaseSubmitted's contact follows on the contact topic,
    as intake publishes both."""
    sent = await publish_events(bootstrap, *events, partition=partition)
    if contacts:
        await publish_contacts(bootstrap, *(contact_of(e) for e in events if isinstance(e, CaseSubmitted)))
    return sent


async def publish_contacts(bootstrap: str, *contacts: CaseContact) -> list:
    return await publish_records(bootstrap, INTAKE_CONTACTS, [(str(c.case_id).encode(), c.to_json_bytes())
                                                              for c in contacts])


async def erase(bootstrap: str, case_id: UUID) -> list:
    """The tombstone intake publishes when a resident's contact is erased."""
    return await publish_records(bootstrap, INTAKE_CONTACTS, [(str(case_id).encode(), None)])


async def publish_staff_contacts(bootstrap: str, *contacts: StaffContact) -> list:
    """Staff numbers as routing publishes them, keyed by staff id."""
    return await publish_records(bootstrap, ROUTING_STAFF_CONTACTS, [(c.staff_id.encode(), c.to_json_bytes())
                                                                     for c in contacts])


async def staff_left(bootstrap: str, staff_id: str) -> list:
    """The tombstone routing publishes when a staff member leaves."""
    return await publish_records(bootstrap, ROUTING_STAFF_CONTACTS, [(staff_id.encode(), None)])


# What the staff and resident notice suites read: each builds its own cases and townships.
NOTICE_TOPICS = sorted({CaseSubmitted.TOPIC, CaseCompleted.TOPIC, INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS})


@asynccontextmanager
async def notify_for_notices(infra, make_database, database: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """Notify on real Kafka and PostgreSQL with the sending rules out of the way, reading from the topics' end
    and skipping other suites' cases; yields its client and runtime."""
    suffix = f"-it-{uuid4().hex[:8]}"
    settings = NotifySettings(
        DATABASE_URL=await make_database(database), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
        BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, send_interval=0.1, send_backoff_first=0.1, **RULES_OFF,
    )
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-notify{suffix}", NOTICE_TOPICS)
    app = create_app(settings)
    skip_other_suites_cases(app.state.runtime.inbox)
    async with running_app(app) as client:
        yield client, app.state.runtime


def own_township() -> str:
    """Other suites may publish centre heads of the demo townships: each test has its own."""
    return f"t-{uuid4().hex[:8]}"
