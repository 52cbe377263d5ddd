"""Consuming events exactly once in effect: apply + record the event id in one transaction,
commit the offset after it, retry with a delay, and dead-letter what cannot be handled.

Events are consumed in batches, one transaction per batch (services.kit.inbox_batches); a batch
that fails is applied again one event at a time, so a bad event is isolated (docs/adr/0039)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.events import parse_event
from contracts.topics import dlq_of
from services.kit.faults import FaultCounters, describe, is_transient
from services.kit.inbox_batches import ApplyBatch, BatchItem, apply_batch_in, last_offsets, one_at_a_time
from services.kit.metrics import (
    RECORD_TYPE,
    record_batch,
    record_dead_letter,
    record_event_handled,
    record_event_retry,
)
from services.kit.offsets import CommitOnRevoke, OffsetCommitter
from services.kit.telemetry import processing

log = logging.getLogger(__name__)

# Takes the event type it is subscribed to; Any because a handler names its own event class.
Apply = Callable[[asyncpg.Connection, Any], Awaitable[None]]
# Where a message came from: what a duplicate hook records about it.
@dataclass(frozen=True)
class Delivery:
    topic: str
    partition: int
    offset: int
    # The message's trace context: handlers of a batch run under the batch's span, so what they
    # record of the trace (audit's trace id) comes from here.
    traceparent: str | None = None


# Called, in the transaction, with an event whose id was already processed (see Inbox.subscribe).
OnDuplicate = Callable[[asyncpg.Connection, Any, Delivery], Awaitable[None]]
# A keyed record of a compacted topic (state, not an event): parsed from (key, value or None for a
# tombstone), then applied. Parsing raises ValueError on anything unreadable.
ParseRecord = Callable[[bytes | None, bytes | None], Any]


@dataclass(frozen=True)
class RecordRoute:
    parse: ParseRecord
    apply: Apply
    personal: bool  # the value holds personal data: it never goes to the DLQ topic, only to the erasable table
# Where a new consumer group starts. Stated by every subscription, never left to a default:
# "earliest" reads the whole retained history (audit must see everything; routing must assign
# every case); a consumer with outside effects bounds them by the event's age instead (notify).
StartPolicy = Literal["earliest", "latest"]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.first_delay * 2 ** (min(attempt, 30) - 1), self.max_delay)


# Events consumed and applied per transaction unless a service says otherwise (BIANMIN_CONSUME_BATCH).
DEFAULT_CONSUME_BATCH = 500
# How long an idle consumer waits for the first message of a batch; a batch never waits to fill up.
BATCH_WAIT_MS = 100


class Inbox:
    """Registers subscribers whose handlers run inside the consumer's own transaction."""

    def __init__(self, *, broker: KafkaBroker, group_id: str, retry: RetryPolicy = RetryPolicy(),
                 offsets: OffsetCommitter | None = None, service: str | None = None,
                 batch_size: int = DEFAULT_CONSUME_BATCH) -> None:
        self._broker, self._group_id, self._retry = broker, group_id, retry
        self.batch_size = batch_size  # 1: one message, one transaction, as before batches
        self.service = service or group_id  # the metrics' service label
        self.pool: asyncpg.Pool | None = None  # set in lifespan, before the broker starts
        self.dead_lettered = 0
        self.faults = FaultCounters()  # transient faults retried, per fault class
        self.offsets = offsets or OffsetCommitter()
        # topic -> event type -> handler, so a dead letter can be re-driven through the same one.
        self.routes: dict[str, dict[str, Apply]] = {}
        self.record_routes: dict[str, RecordRoute] = {}

    @property
    def group_id(self) -> str:
        return self._group_id

    def subscribe(self, topics: str | tuple[str, ...], handlers: Mapping[type[Envelope], Apply], *,
                  start: StartPolicy, description: str, on_duplicate: OnDuplicate | None = None,
                  apply_batch: ApplyBatch | None = None) -> None:
        """One subscriber (one consumer) per call; each event goes to the handler of its type, others
        are passed over.

        A topic carries every event of its producing service, so a consumer names the types it
        acts on; the rest only move the offset on. An event whose id was processed before is
        skipped; `on_duplicate`, if given, sees it first, in the same transaction (audit compares
        its content with what it logged).

        `apply_batch`, if given, applies the fresh events of a batch in place of the per-event
        handlers (which still decide the types taken, and re-drive dead letters); duplicates go to
        `on_duplicate` after it.
        """
        topics = (topics,) if isinstance(topics, str) else topics
        routes = {cls.model_fields["event_type"].default: apply for cls, apply in handlers.items()}
        for topic in topics:
            self.routes.setdefault(topic, {}).update(routes)

        name = f"{self._group_id}_{'_'.join(topics)}".replace(".", "_").replace("-", "_")
        options: dict[str, Any] = {
            "group_id": self._group_id, "ack_policy": AckPolicy.MANUAL, "auto_offset_reset": start,
            "description": f"{description} Handles: {', '.join(routes)}.", "listener": CommitOnRevoke(self.offsets),
            "decoder": _no_body}
        if self.batch_size == 1:
            async def handle(msg: KafkaMessage) -> None:
                await self.process(msg, routes, on_duplicate, apply_batch)

            handle.__name__ = name
            self._broker.subscriber(*topics, max_poll_records=50, **options)(handle)
            return

        async def handle_batch(msg: KafkaMessage) -> None:
            await self.process_batch(msg, routes, on_duplicate, apply_batch)

        handle_batch.__name__ = name
        self._broker.subscriber(*topics, batch=True, max_records=self.batch_size, batch_timeout_ms=BATCH_WAIT_MS,
                                **options)(handle_batch)

    def subscribe_records(self, topic: str, route: RecordRoute, *, start: StartPolicy, description: str) -> None:
        """One consumer of a compacted topic of keyed records. A record carries a state, not a change:
        applying it twice gives the same result, so no event id is recorded; each is applied in its
        own transaction, with the same retries, dead letters and offset commits as events."""
        self.record_routes[topic] = route

        async def handle(msg: KafkaMessage) -> None:
            await self.process_record(msg, route)

        handle.__name__ = f"{self._group_id}_{topic}".replace(".", "_").replace("-", "_")
        self._broker.subscriber(
            topic, group_id=self._group_id, ack_policy=AckPolicy.MANUAL, auto_offset_reset=start,
            description=description, max_poll_records=50, listener=CommitOnRevoke(self.offsets),
        )(handle)

    async def process_record(self, msg: KafkaMessage, route: RecordRoute) -> None:
        record: ConsumerRecord = msg.raw_message  # value None is a tombstone (FastStream's body would be b"")
        try:
            parsed = route.parse(record.key, record.value)
        except (ValueError, ValidationError) as exc:
            await self._dead_letter(record, f"unreadable: {describe(exc)}", personal=route.personal)
            record_event_handled(self.service, record.topic, None, "dead_lettered")
            dead = True
        else:
            async def run() -> None:
                assert self.pool is not None, "Inbox.pool is set in lifespan before consuming"
                async with self.pool.acquire() as conn, conn.transaction():
                    await route.apply(conn, parsed)

            ids = {"topic": record.topic, "offset": str(record.offset)}
            dead = not await self._with_retries(record, run, ids, personal=route.personal)
            record_event_handled(self.service, record.topic, RECORD_TYPE, "dead_lettered" if dead else "applied")
        await self.offsets.handled(msg.consumer, record.topic, record.partition, record.offset, now=dead)

    def handler_for(self, topic: str, event_type: str) -> Apply | None:
        return self.routes.get(topic, {}).get(event_type)

    async def _to_handle(self, record: ConsumerRecord, routes: Mapping[str, Apply]) -> tuple[Envelope | None, bool]:
        """(the event to apply, or None; whether the record was dead-lettered). A type this consumer
        does not route is passed over (by its header, without parsing); an unreadable one is
        dead-lettered at once: both only move the offset on."""
        header_type = _header(record, "event_type")
        if header_type is not None and header_type not in routes:
            record_event_handled(self.service, record.topic, header_type, "passed_over")
            return None, False
        try:
            event = parse_event(record.value)
        except (ValueError, ValidationError) as exc:
            await self._dead_letter(record, f"unreadable: {describe(exc)}")
            record_event_handled(self.service, record.topic, None, "dead_lettered")
            return None, True
        if event.event_type not in routes:
            record_event_handled(self.service, record.topic, event.event_type, "passed_over")
            return None, False
        return event, False

    async def process(self, msg: KafkaMessage, routes: Mapping[str, Apply],
                      on_duplicate: OnDuplicate | None = None, apply_batch: ApplyBatch | None = None) -> None:
        record: ConsumerRecord = msg.raw_message  # one message: a subscriber of batches of one
        event, dead = await self._to_handle(record, routes)
        if event is not None:
            apply = routes[event.event_type]
            if apply_batch is not None:
                apply = one_at_a_time(apply_batch, _delivery(record))
            dead = not await self._apply_with_retries(record, event, apply, on_duplicate)
            if dead:
                record_event_handled(self.service, record.topic, event.event_type, "dead_lettered")
        # Only now, after the transaction or the dead letter; a dead letter at once, so it is sent once.
        await self.offsets.handled(msg.consumer, record.topic, record.partition, record.offset, now=dead)

    async def process_batch(self, msg: KafkaMessage, routes: Mapping[str, Apply],
                            on_duplicate: OnDuplicate | None = None, apply_batch: ApplyBatch | None = None) -> None:
        """Handles a batch (a tuple of records, each partition's in offset order) as `process` handles
        one message, with the events to apply applied in one transaction."""
        records: tuple[ConsumerRecord, ...] = msg.raw_message
        record_batch(self.service, records[0].topic, len(records))
        items: list[BatchItem] = []
        dead = False
        for record in records:
            event, unreadable = await self._to_handle(record, routes)
            dead = dead or unreadable
            if event is None:
                continue
            apply = routes[event.event_type]
            delivery = _delivery(record)
            if apply_batch is not None:
                apply = one_at_a_time(apply_batch, delivery)
            items.append(BatchItem(record=record, delivery=delivery, event=event, apply=apply))
        if items:
            dead = not await self._apply_batch(items, on_duplicate, apply_batch) or dead
        # Only now, after the transaction or the dead letters; a dead letter at once, so it is sent once.
        await self.offsets.handled_batch(msg.consumer, last_offsets(records), len(records), now=dead)

    async def _apply_batch(self, items: list[BatchItem], on_duplicate: OnDuplicate | None,
                           apply_batch: ApplyBatch | None) -> bool:
        """True once the batch is applied in one transaction, or, after it failed, each event on its
        own; False when one of them was dead-lettered.

        An infrastructure fault retries the whole batch without limit, as `_with_retries` does for
        one event (an outage stalls; a deadlock resolves in a new transaction). Any other failure
        may come from one event: the batch is rolled back and its events go one at a time through
        the path of a single message, retries and dead letter included.
        """
        assert self.pool is not None, "Inbox.pool is set in lifespan before consuming"
        first = items[0]
        failures = 0
        while True:
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    flags = await apply_batch_in(conn, items, apply_batch=apply_batch, on_duplicate=on_duplicate)
                break
            except Exception as exc:
                if not is_transient(exc):
                    log.warning("batch failed; applying its events one at a time",
                                extra={"events": len(items), "error": describe(exc)})
                    return await self._apply_one_at_a_time(items, on_duplicate)
                failures += 1
                kind = self.faults.record(exc)
                record_event_retry(self.service, first.record.topic, transient=True)
                log.warning("transient failure of a batch, will retry", extra={
                    "events": len(items), "first_event_id": str(first.event.event_id), "fault": kind,
                    "error": describe(exc)})
                await asyncio.sleep(self._retry.delay(min(failures, 10)))
        for item, fresh in zip(items, flags, strict=True):
            record_event_handled(self.service, item.delivery.topic, item.event.event_type,
                                 "applied" if fresh else "duplicate")
        return True

    async def _apply_one_at_a_time(self, items: list[BatchItem], on_duplicate: OnDuplicate | None) -> bool:
        ok = True
        for item in items:
            with processing(item.delivery.traceparent, item.delivery.topic):
                ok_one = await self._apply_with_retries(item.record, item.event, item.apply, on_duplicate)
            if not ok_one:
                record_event_handled(self.service, item.delivery.topic, item.event.event_type, "dead_lettered")
                ok = False
        return ok

    async def close(self) -> None:
        """Commits what was handled; called before the broker stops its consumers."""
        await self.offsets.close()

    async def _apply_with_retries(self, record: Any, event: Envelope, apply: Apply,
                                  on_duplicate: OnDuplicate | None = None) -> bool:
        """True once applied (or found a duplicate); False when dead-lettered."""
        ids = {"event_id": str(event.event_id), "case_id": str(event.case_id)}
        delivery = _delivery(record)
        return await self._with_retries(record, lambda: self._apply_once(delivery, event, apply, on_duplicate), ids)

    async def _with_retries(self, record: Any, run: Callable[[], Awaitable[None]], ids: dict[str, str], *,
                            personal: bool = False) -> bool:
        """True once `run` succeeded; False when the record was dead-lettered.

        Infrastructure faults (faults.is_transient) are retried without limit, so an outage
        stalls the partition instead of dead-lettering good events; others a few times.
        """
        attempt = failures = 0
        while True:
            try:
                await run()
                return True
            except Exception as exc:
                if is_transient(exc):
                    failures += 1
                    kind = self.faults.record(exc)
                    record_event_retry(self.service, record.topic, transient=True)
                    log.warning("transient failure, will retry", extra={**ids, "fault": kind, "error": describe(exc)})
                    await asyncio.sleep(self._retry.delay(min(failures, 10)))
                    continue
                attempt += 1
                if attempt >= self._retry.max_attempts:
                    # The reason names types, never values; the traceback (messages may quote data) only at DEBUG.
                    log.error("giving up, dead-lettering", extra={**ids, "error": describe(exc)})
                    log.debug("handler failure", exc_info=True)
                    await self._dead_letter(record, f"failed {attempt} times: {describe(exc)}", personal=personal)
                    return False
                record_event_retry(self.service, record.topic, transient=False)
                await asyncio.sleep(self._retry.delay(attempt))

    async def _apply_once(self, delivery: Delivery, event: Envelope, apply: Apply,
                          on_duplicate: OnDuplicate | None) -> None:
        assert self.pool is not None, "Inbox.pool is set in lifespan before consuming"
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await apply_in(conn, delivery.topic, event, apply)
            if not fresh and on_duplicate is not None:
                await on_duplicate(conn, event, delivery)
        record_event_handled(self.service, delivery.topic, event.event_type, "applied" if fresh else "duplicate")

    async def _dead_letter(self, record: Any, reason: str, *, personal: bool = False) -> None:
        """Keep the message, then publish it to the DLQ topic; both retried until they succeed,
        because the offset moves on right after and a lost dead letter is a lost event. A personal
        record's value stays in the table alone, where an erasure can reach it."""
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or [])}
        dlq_value = b"" if personal else record.value or b""
        if personal:
            headers["dlq_value_withheld"] = "personal data; kept in the service's dead_letters table"
        failures = 0
        while True:
            try:
                await self._keep_dead_letter(record, headers, reason)
                await self._broker.publish(dlq_value, topic=dlq_of(record.topic), key=record.key,
                                           headers=headers | self._dlq_headers(record, reason))
                break
            except Exception as exc:  # noqa: BLE001 - retried until stored
                failures += 1
                kind = self.faults.record(exc)
                log.warning("dead letter not stored yet; retrying", extra={
                    "topic": record.topic, "offset": record.offset, "fault": kind, "error": describe(exc)})
                await asyncio.sleep(self._retry.delay(min(failures, 10)))
        self.dead_lettered += 1
        record_dead_letter(self.service, record.topic)
        log.error("message dead-lettered", extra={"topic": record.topic, "partition": record.partition,
                                                  "offset": record.offset, "reason": reason[:200]})

    def _dlq_headers(self, record: Any, reason: str) -> dict[str, str]:
        return {"dlq_reason": reason, "dlq_source_topic": record.topic, "dlq_partition": str(record.partition),
                "dlq_offset": str(record.offset), "dlq_consumer_group": self._group_id}

    async def _keep_dead_letter(self, record: Any, headers: dict[str, str], reason: str) -> None:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            await conn.execute(
                'INSERT INTO dead_letters (topic, partition, "offset", reason, consumer_group, message_key,'
                " message_value, headers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ' ON CONFLICT (consumer_group, topic, partition, "offset") DO NOTHING',
                record.topic, record.partition, record.offset, reason[:2000], self._group_id, record.key,
                record.value, json.dumps(headers),
            )


async def apply_in(conn: asyncpg.Connection, topic: str, event: Envelope, apply: Apply) -> bool:
    """Apply `event` in the caller's transaction unless it was applied before; True when applied now."""
    fresh = await conn.fetchval(
        "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        event.event_id, topic,
    )
    if fresh:
        await apply(conn, event)
    return bool(fresh)


def _delivery(record: Any) -> Delivery:
    return Delivery(topic=record.topic, partition=record.partition, offset=record.offset,
                    traceparent=_header(record, "traceparent"))


async def _no_body(msg: Any) -> None:
    """The inbox parses each record itself (contracts.events): FastStream's JSON decoding of the
    body would only cost time."""
    return None


def _header(record: Any, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None
