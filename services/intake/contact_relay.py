"""Publishes each case's contact to the compacted contact topic: the number while it is kept, a
tombstone (the key with no value) once it is erased.

Not the outbox: a contact is state, not an event, and erasing it must not leave the number in an
append-only table. A row whose version is ahead of what was published is sent with its current
state; the row stays locked until Kafka acknowledged it, so a concurrent erasure waits and its
tombstone is always written after the number it erases. FastStream turns a None body into an
empty value, which compaction does not treat as a tombstone, hence a plain aiokafka producer.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Protocol

import asyncpg
from aiokafka import AIOKafkaProducer

from contracts.contacts import CaseContact
from contracts.topics import INTAKE_CONTACTS
from services.intake import store
from services.intake.deps import IntakeRuntime
from services.kit.kafka_security import KafkaSecurity
from services.kit.loops import LoopStats, run_forever


class ContactSender(Protocol):
    async def send(self, records: list[tuple[bytes, bytes | None]]) -> None:
        """Send (key, value) records in order and return once Kafka acknowledged all of them."""


class KafkaContactSender:
    """Started on first use, so the loop's retries cover a Kafka that is not there yet."""

    def __init__(self, bootstrap: list[str], security: KafkaSecurity) -> None:
        self._bootstrap, self._security = bootstrap, security
        self._producer: AIOKafkaProducer | None = None

    async def send(self, records: list[tuple[bytes, bytes | None]]) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, client_id="bianmin-intake-contacts",
                                        acks="all", enable_idempotence=True, **self._security.aiokafka())
            await producer.start()
            self._producer = producer
        acks = [await self._producer.send(INTAKE_CONTACTS, key=key, value=value) for key, value in records]
        await asyncio.gather(*acks)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()


def record_of(row: dict) -> tuple[bytes, bytes | None]:
    if row["phone"] is None:
        return str(row["case_id"]).encode(), None
    contact = CaseContact(case_id=row["case_id"], township_id=row["township_id"], version=row["version"],
                          recorded_at=row["recorded_at"], applicant_phone=row["phone"])
    return str(row["case_id"]).encode(), contact.to_json_bytes()


async def publish_round(pool: asyncpg.Pool, sender: ContactSender, *, batch: int) -> bool:
    """One batch; True when a full batch went out (more may wait)."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await store.claim_unpublished_contacts(conn, limit=batch)
        if not rows:
            return False
        await sender.send([record_of(r) for r in rows])
        await store.mark_contacts_published(conn, [(r["case_id"], r["version"]) for r in rows])
    return len(rows) == batch


async def contact_loop(runtime: IntakeRuntime, stats: LoopStats | None = None) -> None:
    settings = runtime.settings
    sender = KafkaContactSender(settings.kafka_servers, settings.kafka_security)
    try:
        await run_forever("contact-relay", functools.partial(publish_round, runtime.pool, sender,
                                                             batch=settings.contact_publish_batch),
                          interval=settings.contact_publish_interval, stats=stats, service=runtime.name)
    finally:
        await sender.close()
