"""Kafka helpers for notify's integration tests on topics other suites share."""

from __future__ import annotations

from uuid import UUID

from contracts.contacts import CaseContact, StaffContact
from contracts.envelope import Envelope
from contracts.events import CaseSubmitted
from contracts.topics import INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS
from services.kit.inbox import Inbox
from services.kit.testing import consume_until, publish_events, publish_records
from services.notify.tests.builders import CASES, contact_of

__all__ = ["consume_until", "erase", "publish", "publish_contacts", "publish_staff_contacts", "skip_other_suites_cases",
           "staff_left"]


def skip_other_suites_cases(inbox: Inbox) -> None:
    """Acknowledge, unprocessed, events of cases these tests did not build.

    Other suites publish on the same topics while this one runs (an end-to-end system moving its
    clock makes hundreds of DeadlineBreached for cases this fresh database never saw); each would
    wait out the contact retries and hold up the partition our events are on. The key is the case id.
    """
    process = inbox.process

    async def ours_only(msg, apply) -> None:
        if (msg.raw_message.key or b"").decode(errors="replace") not in CASES:
            await msg.ack()
            return
        await process(msg, apply)

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
