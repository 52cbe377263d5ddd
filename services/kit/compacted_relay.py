"""Publishes the rows of a state table to a compacted Kafka topic: the current record of each key while it
is kept, a tombstone (the key with no value) once it is gone. Used for the contact topics.

Not the outbox: a contact is state, not an event, and erasing it must not leave the number in an
append-only table. The table has `version` and `published_version` columns; a row whose version is
ahead of what was published is sent with its current state. The row stays locked until Kafka
acknowledged it, so a concurrent change waits and its record (a tombstone too) is always written
after the one it replaces. FastStream turns a None body into an empty value, which compaction does
not treat as a tombstone, hence a plain aiokafka producer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from aiokafka import AIOKafkaProducer

from services.kit.kafka_security import KafkaSecurity
from services.kit.loops import LoopStats, run_forever

Record = tuple[bytes, bytes | None]


class RecordSender(Protocol):
    async def send(self, records: list[Record]) -> None:
        """Send (key, value) records in order and return once Kafka acknowledged all of them."""


class KafkaRecordSender:
    """Started on first use, so the loop's retries cover a Kafka that is not there yet."""

    def __init__(self, bootstrap: list[str], security: KafkaSecurity, *, topic: str, client_id: str) -> None:
        self._bootstrap, self._security, self._topic, self._client_id = bootstrap, security, topic, client_id
        self._producer: AIOKafkaProducer | None = None

    async def send(self, records: list[Record]) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, client_id=self._client_id,
                                        acks="all", enable_idempotence=True, **self._security.aiokafka())
            await producer.start()
            self._producer = producer
        acks = [await self._producer.send(self._topic, key=key, value=value) for key, value in records]
        await asyncio.gather(*acks)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()


@dataclass(frozen=True)
class CompactedTable:
    """A table whose rows go to a compacted topic: `key` names the column that is the Kafka key, `record_of`
    turns a row into its (key, value) record, a value None being a tombstone."""

    table: str
    key: str
    record_of: Callable[[dict[str, Any]], Record]
    order_by: str = "recorded_at"


async def publish_round(pool: asyncpg.Pool, sender: RecordSender, source: CompactedTable, *, batch: int) -> bool:
    """One batch; True when a full batch went out (more may wait)."""
    async with pool.acquire() as conn, conn.transaction():
        rows = [dict(r) for r in await conn.fetch(
            f"SELECT * FROM {source.table} WHERE version > published_version"
            f" ORDER BY {source.order_by} LIMIT $1 FOR UPDATE SKIP LOCKED", batch)]
        if not rows:
            return False
        await sender.send([source.record_of(r) for r in rows])
        await conn.executemany(f"UPDATE {source.table} SET published_version = $2 WHERE {source.key} = $1",
                               [(r[source.key], r["version"]) for r in rows])
    return len(rows) == batch


async def relay_forever(name: str, pool: asyncpg.Pool, sender: KafkaRecordSender, source: CompactedTable, *,
                        batch: int, interval: float, stats: LoopStats | None = None, service: str = "") -> None:
    """Publishes `source` until cancelled, with the loop shape every background task has."""
    async def round_() -> bool:
        return await publish_round(pool, sender, source, batch=batch)

    try:
        await run_forever(name, round_, interval=interval, stats=stats, service=service)
    finally:
        await sender.close()
