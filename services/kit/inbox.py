"""Consuming events exactly once in effect: apply + record the event id in one transaction,
commit the offset after it, retry with a delay, and dead-letter what cannot be handled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import asyncpg
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.events import parse_event
from contracts.topics import dlq_of
from services.kit.offsets import OffsetCommitter

log = logging.getLogger(__name__)

Apply = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]
# Where a new consumer group starts. Stated by every subscription, never left to a default:
# "earliest" reads the whole retained history (audit must see everything; routing must assign
# every case); a consumer with outside effects bounds them by the event's age instead (notify).
StartPolicy = Literal["earliest", "latest"]

# Failures of the infrastructure, not of the message: wait and retry without limit, so an
# outage stalls the partition instead of dead-lettering good events.
TRANSIENT = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
             asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.TooManyConnectionsError,
             asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.first_delay * 2 ** (attempt - 1), self.max_delay)


class Inbox:
    """Registers subscribers whose handlers run inside the consumer's own transaction."""

    def __init__(self, *, broker: KafkaBroker, group_id: str, retry: RetryPolicy = RetryPolicy()) -> None:
        self._broker, self._group_id, self._retry = broker, group_id, retry
        self.pool: asyncpg.Pool | None = None  # set in lifespan, before the broker starts
        self.dead_lettered = 0
        self.offsets = OffsetCommitter()

    def subscribe(self, topics: str | tuple[str, ...], handlers: Mapping[type[Envelope], Apply], *,
                  start: StartPolicy, description: str) -> None:
        """One subscriber (one consumer) per call; each event goes to the handler of its type, others
        are passed over.

        A topic carries every event of its producing service, so a consumer names the types it
        acts on; the rest only move the offset on.
        """
        topics = (topics,) if isinstance(topics, str) else topics
        routes = {cls.model_fields["event_type"].default: apply for cls, apply in handlers.items()}

        async def handle(msg: KafkaMessage) -> None:
            await self.process(msg, routes)

        handle.__name__ = f"{self._group_id}_{'_'.join(topics)}".replace(".", "_").replace("-", "_")
        self._broker.subscriber(
            *topics, group_id=self._group_id, ack_policy=AckPolicy.MANUAL, auto_offset_reset=start,
            description=f"{description} Handles: {', '.join(routes)}.", max_poll_records=50,
        )(handle)

    async def process(self, msg: KafkaMessage, routes: Mapping[str, Apply]) -> None:
        record = msg.raw_message
        header_type = _header(record, "event_type")
        if header_type is not None and header_type not in routes:
            dead = False  # not for this consumer: no parse, no transaction
        else:
            try:
                event = parse_event(record.value)
            except (ValueError, ValidationError) as exc:
                await self._dead_letter(record, f"unreadable: {exc}"[:2000])
                dead = True
            else:
                apply = routes.get(event.event_type)
                dead = apply is not None and not await self._apply_with_retries(record, event, apply)
        # Only now, after the transaction or the dead letter; a dead letter at once, so it is sent once.
        await self.offsets.handled(msg.consumer, record.topic, record.partition, record.offset, now=dead)

    async def close(self) -> None:
        """Commits what was handled; called before the broker stops its consumers."""
        await self.offsets.close()

    async def _apply_with_retries(self, record, event: Envelope, apply: Apply) -> bool:
        """True once applied (or found a duplicate); False when dead-lettered."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._apply_once(record.topic, event, apply)
                return True
            except TRANSIENT as exc:
                log.warning("transient failure, will retry", extra={"event_id": str(event.event_id), "error": repr(exc)})
                await asyncio.sleep(self._retry.delay(min(attempt, 10)))
            except Exception as exc:
                if attempt >= self._retry.max_attempts:
                    log.exception("giving up, dead-lettering", extra={"event_id": str(event.event_id)})
                    await self._dead_letter(record, f"failed {attempt} times: {exc!r}"[:2000])
                    return False
                await asyncio.sleep(self._retry.delay(attempt))

    async def _apply_once(self, topic: str, event: Envelope, apply: Apply) -> None:
        assert self.pool is not None, "Inbox.pool is set in lifespan before consuming"
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
                event.event_id, topic,
            )
            if fresh:
                await apply(conn, event)

    async def _dead_letter(self, record, reason: str) -> None:
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or [])}
        headers.update({
            "dlq_reason": reason, "dlq_source_topic": record.topic, "dlq_partition": str(record.partition),
            "dlq_offset": str(record.offset), "dlq_consumer_group": self._group_id,
        })
        await self._broker.publish(record.value or b"", topic=dlq_of(record.topic), key=record.key, headers=headers)
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            await conn.execute(
                'INSERT INTO dead_letters (topic, partition, "offset", reason) VALUES ($1, $2, $3, $4)',
                record.topic, record.partition, record.offset, reason,
            )
        self.dead_lettered += 1
        log.error("message dead-lettered", extra={"topic": record.topic, "offset": record.offset, "reason": reason[:200]})


def _header(record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None
