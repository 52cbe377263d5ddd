"""The gauges read from the database and Kafka (outbox backlog, dead letters pending, consumer lag,
relay state, readiness), refreshed by one background loop rather than on each scrape: a scrape
stays cheap and answers even while PostgreSQL or Kafka does not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiokafka import TopicPartition

from services.kit.loops import Backoff, run_forever
from services.kit.metrics import (
    LagKey,
    record_consumer_lag,
    record_dead_letters_pending,
    record_outbox,
    record_ready,
    record_relay_state,
)
from services.kit.readiness import ReadinessProbe

if TYPE_CHECKING:
    from services.kit.service import Runtime

LOOP = "metrics-refresh"
KAFKA_TIMEOUT = 5.0

# A service's own gauges, refreshed in the same round (e.g. routing's open breached cases).
Refresh = Callable[["Runtime[Any, Any]"], Awaitable[None]]


async def refresh_outbox(runtime: Runtime[Any, Any]) -> None:
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(recorded_at)), 0) AS oldest"
            " FROM events WHERE published_at IS NULL AND set_aside_at IS NULL")
        set_aside = await conn.fetchval("SELECT count(*) FROM events WHERE set_aside_at IS NOT NULL")
        pending = await conn.fetchval(
            "SELECT count(*) FROM dead_letters WHERE redriven_at IS NULL AND consumer_group = $1", runtime.inbox.group_id)
    record_outbox(runtime.name, backlog=row["backlog"], oldest_age_seconds=max(float(row["oldest"]), 0.0),
                  set_aside=set_aside)
    record_dead_letters_pending(runtime.name, pending)


async def consumer_lags(runtime: Runtime[Any, Any]) -> dict[LagKey, int]:
    """End offset minus committed offset for each partition assigned to this instance's consumers
    (one ListOffsets and one OffsetFetch round trip per consumer)."""
    lags: dict[LagKey, int] = {}
    for subscriber in runtime.broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is None:
            continue
        assigned: set[TopicPartition] = consumer.assignment()
        if not assigned:
            continue
        ends = await asyncio.wait_for(consumer.end_offsets(list(assigned)), KAFKA_TIMEOUT)
        for tp in assigned:
            committed = await asyncio.wait_for(consumer.committed(tp), KAFKA_TIMEOUT)
            lags[(runtime.inbox.group_id, tp.topic, tp.partition)] = max(ends[tp] - (committed or 0), 0)
    return lags


async def refresh_once(runtime: Runtime[Any, Any], probe: ReadinessProbe, extra: Sequence[Refresh] = ()) -> None:
    ready, report = await probe.check()  # cached for a second, on the probe's own connection
    record_ready(runtime.name, ready)
    record_relay_state(runtime.name, report["checks"]["relay"])
    await refresh_outbox(runtime)
    for refresh in extra:
        await refresh(runtime)
    if runtime.broker.running:  # no lag to read before the consumers started
        record_consumer_lag(runtime.name, await consumer_lags(runtime))


async def refresh_loop(runtime: Runtime[Any, Any], probe: ReadinessProbe, *, interval: float,
                       extra: Sequence[Refresh] = ()) -> None:
    async def round_() -> bool:
        await refresh_once(runtime, probe, extra)
        return False

    await run_forever(LOOP, round_, interval=interval, backoff=Backoff(first=interval, max=max(interval, 60.0)),
                      service=runtime.name)
