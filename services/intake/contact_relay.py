"""Publishes each case's contact to the compacted contact topic: the number while it is kept, a
tombstone once it is erased (services/kit/compacted_relay.py says how and why)."""

from __future__ import annotations

from typing import Any

from contracts.contacts import CaseContact
from contracts.topics import INTAKE_CONTACTS
from services.intake.deps import IntakeRuntime
from services.kit.compacted_relay import CompactedTable, KafkaRecordSender, Record, relay_forever
from services.kit.loops import LoopStats


def record_of(row: dict[str, Any]) -> Record:
    if row["phone"] is None:
        return str(row["case_id"]).encode(), None
    contact = CaseContact(case_id=row["case_id"], township_id=row["township_id"], version=row["version"],
                          recorded_at=row["recorded_at"], applicant_phone=row["phone"])
    return str(row["case_id"]).encode(), contact.to_json_bytes()


CASE_CONTACTS = CompactedTable(table="case_contacts", key="case_id", record_of=record_of)


async def contact_loop(runtime: IntakeRuntime, stats: LoopStats | None = None) -> None:
    settings = runtime.settings
    sender = KafkaRecordSender(settings.kafka_servers, settings.kafka_security, topic=INTAKE_CONTACTS,
                               client_id="bianmin-intake-contacts")
    await relay_forever("contact-relay", runtime.pool, sender, CASE_CONTACTS, batch=settings.contact_publish_batch,
                        interval=settings.contact_publish_interval, stats=stats, service=runtime.name)
