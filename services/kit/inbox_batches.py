"""Applying a batch of consumed events in one transaction: one multi-row insert into the inbox
table tells the fresh events from those processed before, then the fresh ones are applied in
the order they were consumed (each partition's in offset order)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition

from contracts.envelope import Envelope
from services.kit.telemetry import processing, processing_span

if TYPE_CHECKING:
    from services.kit.inbox import Apply, Delivery, OnDuplicate

# Applies the fresh events of a batch, in consumption order, inside the batch's transaction.
ApplyBatch = Callable[[asyncpg.Connection, "list[tuple[Delivery, Envelope]]"], Awaitable[None]]


@dataclass(frozen=True)
class BatchItem:
    record: ConsumerRecord
    delivery: Delivery
    event: Envelope
    apply: Apply  # its own handler: what a one-at-a-time replay of the batch runs


async def fresh_ids(conn: asyncpg.Connection, items: Sequence[BatchItem]) -> set[UUID]:
    """Records every event id of the batch in the inbox table; returns those not recorded before.

    Inserted in id order, so two transactions inserting overlapping ids (a partition consumed
    twice around a rebalance) wait for each other instead of deadlocking.
    """
    ordered = sorted(items, key=lambda item: item.event.event_id)
    rows = await conn.fetch(
        "INSERT INTO processed_events (event_id, topic) SELECT * FROM unnest($1::uuid[], $2::text[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        [item.event.event_id for item in ordered], [item.delivery.topic for item in ordered],
    )
    return {row["event_id"] for row in rows}


async def apply_batch_in(conn: asyncpg.Connection, items: Sequence[BatchItem], *,
                         apply_batch: ApplyBatch | None, on_duplicate: OnDuplicate | None) -> list[bool]:
    """Applies the batch in the caller's transaction; for each item, True when applied now, False
    when a duplicate (of an earlier batch, or of an item before it in this one). Each handler runs
    in its own message's trace context; a batch handler finds it in `Delivery.traceparent`."""
    fresh = await fresh_ids(conn, items)
    flags = []
    for item in items:
        flags.append(item.event.event_id in fresh)
        fresh.discard(item.event.event_id)  # a second copy in the same batch is a duplicate
    if apply_batch is None:
        for item, is_fresh in zip(items, flags, strict=True):
            with processing(item.delivery.traceparent, item.delivery.topic):
                if is_fresh:
                    await item.apply(conn, item.event)
                elif on_duplicate is not None:
                    await on_duplicate(conn, item.event, item.delivery)
        return flags
    applied = [(item.delivery, item.event) for item, is_fresh in zip(items, flags, strict=True) if is_fresh]
    if applied:
        spans = [processing_span(delivery.traceparent, delivery.topic) for delivery, _ in applied]
        try:
            await apply_batch(conn, applied)
        finally:
            for span in spans:
                span.end()
    if on_duplicate is not None:  # after the batch, so a copy of an event of this batch finds it applied
        for item, is_fresh in zip(items, flags, strict=True):
            if not is_fresh:
                with processing(item.delivery.traceparent, item.delivery.topic):
                    await on_duplicate(conn, item.event, item.delivery)
    return flags


def one_at_a_time(apply_batch: ApplyBatch, delivery: Delivery) -> Apply:
    """A batch handler as the handler of one event: how a batch that failed is replayed."""
    async def apply(conn: asyncpg.Connection, event: Any) -> None:
        await apply_batch(conn, [(delivery, event)])
    return apply


def last_offsets(records: Iterable[ConsumerRecord]) -> dict[TopicPartition, int]:
    """The last offset of each partition among `records` (each partition's come in offset order)."""
    return {TopicPartition(record.topic, record.partition): record.offset for record in records}
