"""Publishes each staff member's contact on the compacted topic notify reads (bianmin.routing.staff-contacts.v1):
the work mobile while they are active, a tombstone once they are not (services/kit/compacted_relay.py)."""

from __future__ import annotations

from typing import Any

from contracts.contacts import StaffContact
from contracts.topics import ROUTING_STAFF_CONTACTS
from services.kit.compacted_relay import CompactedTable, KafkaRecordSender, Record, relay_forever
from services.kit.loops import LoopStats
from services.routing.deps import RoutingRuntime


def record_of(row: dict[str, Any]) -> Record:
    key = row["staff_id"].encode()
    if row["phone"] is None:
        return key, None
    contact = StaffContact(staff_id=row["staff_id"], township_id=row["township_id"],
                           department_code=row["department_code"], role=row["role"], name=row["name"],
                           version=row["version"], recorded_at=row["recorded_at"], phone=row["phone"])
    return key, contact.to_json_bytes()


STAFF_CONTACTS = CompactedTable(table="staff_contacts", key="staff_id", record_of=record_of)


async def staff_contact_loop(runtime: RoutingRuntime, stats: LoopStats | None = None) -> None:
    settings = runtime.settings
    sender = KafkaRecordSender(settings.kafka_servers, settings.kafka_security, topic=ROUTING_STAFF_CONTACTS,
                               client_id="bianmin-routing-staff-contacts")
    await relay_forever("staff-contact-relay", runtime.pool, sender, STAFF_CONTACTS,
                        batch=settings.staff_contact_publish_batch, interval=settings.staff_contact_publish_interval,
                        stats=stats, service=runtime.name)
