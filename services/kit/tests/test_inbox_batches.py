"""The inbox's batches on real Kafka and PostgreSQL: one transaction per batch, a bad event isolated,
duplicates within and across batches, a crash before the commit, batches of one, a batch handler."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload
from services.kit.db import apply_migrations, create_pool
from services.kit.inbox import Delivery, Inbox, RetryPolicy
from services.kit.kafka_security import kafka_client_options, kafka_security
from services.kit.offsets import OffsetCommitter
from services.kit.testing import eventually, start_group_at_end

pytestmark = pytest.mark.integration
TOPIC = CaseRated.TOPIC


def _event(case_id: UUID) -> CaseRated:
    return CaseRated(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="intake",
                     case_id=case_id, stream_version=1, township_id="qingshui", actor=Actor(kind="resident", id="r"),
                     correlation_id=case_id, payload=CaseRatedPayload(score=5, comment="", bad_rating=False))


@dataclass
class Harness:
    bootstrap: str
    pool: asyncpg.Pool
    group: str
    producer: AIOKafkaProducer
    key: bytes = field(default_factory=lambda: uuid4().hex.encode())  # one key: one partition, one fetch
    broken: set[UUID] = field(default_factory=set)
    duplicates: list[UUID] = field(default_factory=list)
    batches: list[list[UUID]] = field(default_factory=list)
    brokers: list[KafkaBroker] = field(default_factory=list)

    async def send(self, *values: bytes) -> None:
        """In one produce request (the producer lingers), so a running consumer fetches them together."""
        sent = [await self.producer.send(TOPIC, value, key=self.key) for value in values]
        await asyncio.gather(*sent)

    async def apply(self, conn, event) -> None:
        if event.event_id in self.broken:
            raise LookupError("the handler's bug")
        # Committed rows, not calls: a batch rolled back leaves none, so a row counts one application.
        await conn.execute("INSERT INTO applied (event_id, txid) VALUES ($1, txid_current())", event.event_id)

    async def apply_batch(self, conn, batch: list[tuple[Delivery, CaseRated]]) -> None:
        self.batches.append([event.event_id for _, event in batch])
        for _, event in batch:
            await self.apply(conn, event)

    async def on_duplicate(self, conn, event, delivery) -> None:
        self.duplicates.append(event.event_id)

    async def start(self, batch_size: int, *, batch_handler: bool = False,
                    offsets: OffsetCommitter | None = None) -> Inbox:
        broker = KafkaBroker(self.bootstrap, security=kafka_security().faststream())
        inbox = Inbox(broker=broker, group_id=self.group, batch_size=batch_size, offsets=offsets,
                      retry=RetryPolicy(max_attempts=2, first_delay=0.01, max_delay=0.05))
        inbox.pool = self.pool
        inbox.subscribe(TOPIC, {CaseRated: self.apply}, start="earliest", description="test",
                        on_duplicate=self.on_duplicate, apply_batch=self.apply_batch if batch_handler else None)
        await broker.start()
        self.brokers.append(broker)
        return inbox

    async def rows(self) -> dict[UUID, list[int]]:
        """event id -> the transactions that applied it."""
        async with self.pool.acquire() as conn:
            found = await conn.fetch("SELECT event_id, txid FROM applied ORDER BY id")
        rows: dict[UUID, list[int]] = {}
        for row in found:
            rows.setdefault(row["event_id"], []).append(row["txid"])
        return rows

    async def all_applied(self, events) -> dict[UUID, list[int]]:
        async def probe():
            rows = await self.rows()
            return rows if all(e.event_id in rows for e in events) else None
        return await eventually(probe, what=f"{len(events)} events applied")


@pytest.fixture
async def harness(infra, make_database):
    pool = await create_pool(await make_database("it_inbox_batches"), "kit")
    await apply_migrations(pool, "kit", Path(__file__).parent / "none")
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE applied (id bigserial PRIMARY KEY, event_id uuid NOT NULL, txid bigint NOT NULL)")
    group = f"test-inbox-batches-{uuid4().hex[:8]}"
    await start_group_at_end(infra.kafka_bootstrap, group, [TOPIC])  # this test's messages only
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=200, **kafka_client_options())
    await producer.start()
    h = Harness(bootstrap=infra.kafka_bootstrap, pool=pool, group=group, producer=producer)
    yield h
    for broker in h.brokers:
        await broker.stop()
    await producer.stop()
    await pool.close()


@pytest.mark.parametrize("batch_size", [1, 100])
async def test_a_batch_is_applied_in_one_transaction_and_batches_of_one_each_in_its_own(harness, batch_size):
    h = harness
    events = [_event(uuid4()) for _ in range(20)]
    await h.send(*(e.to_json_bytes() for e in events))  # all waiting before the consumer starts
    await h.start(batch_size)
    rows = await h.all_applied(events)
    assert all(len(rows[e.event_id]) == 1 for e in events)
    transactions = {rows[e.event_id][0] for e in events}
    assert len(transactions) == (20 if batch_size == 1 else 1)
    async with h.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM processed_events") == 20


@pytest.mark.parametrize("batch_size", [1, 100])
async def test_a_bad_event_in_a_batch_is_dead_lettered_and_every_other_applied_once(harness, batch_size):
    h = harness
    events = [_event(uuid4()) for _ in range(10)]
    h.broken.add(events[4].event_id)
    values = [e.to_json_bytes() for e in events]
    values.insert(7, b"\x00not an event")
    await h.send(*values)
    inbox = await h.start(batch_size)
    good = [e for e in events if e.event_id not in h.broken]
    rows = await h.all_applied(good)
    await eventually(_true(lambda: inbox.dead_lettered == 2), what="the two dead letters")
    assert all(len(rows[e.event_id]) == 1 for e in good) and events[4].event_id not in rows
    async with h.pool.acquire() as conn:
        reasons = sorted(r["reason"] for r in await conn.fetch("SELECT reason FROM dead_letters"))
        assert await conn.fetchval("SELECT count(*) FROM processed_events WHERE event_id = $1", events[4].event_id) == 0
    assert reasons[0] == "failed 2 times: LookupError" and reasons[1].startswith("unreadable: ")


async def test_duplicates_within_a_batch_and_across_batches_are_applied_once(harness):
    h = harness
    first, second, third = (_event(uuid4()) for _ in range(3))
    await h.send(first.to_json_bytes(), first.to_json_bytes(), second.to_json_bytes())
    await h.start(100)
    await h.all_applied([first, second])
    await eventually(_true(lambda: h.duplicates == [first.event_id]), what="the copy within the batch")
    await h.send(second.to_json_bytes(), first.to_json_bytes(), third.to_json_bytes())
    rows = await h.all_applied([third])
    await eventually(_true(lambda: len(h.duplicates) == 3), what="the copies of a later batch")
    assert sorted(h.duplicates) == sorted([first.event_id, first.event_id, second.event_id])
    assert {e.event_id: len(rows[e.event_id]) for e in (first, second, third)} == dict.fromkeys(
        (first.event_id, second.event_id, third.event_id), 1)


async def test_a_consumer_stopped_mid_batch_leaves_it_to_the_next_one_and_each_event_applies_once(harness):
    h = harness
    done, held = _event(uuid4()), [_event(uuid4()) for _ in range(5)]
    release = asyncio.Event()
    entered = asyncio.Event()
    apply = h.apply

    async def slow(conn, event):
        await apply(conn, event)
        if event.event_id == held[2].event_id and not release.is_set():
            entered.set()
            await release.wait()  # the process dies here, the batch's transaction still open

    h.apply = slow  # type: ignore[method-assign]
    never = OffsetCommitter(every=10_000, interval=3600)  # nothing committed to Kafka: all comes again
    await h.send(done.to_json_bytes())
    await h.start(100, offsets=never)
    await h.all_applied([done])
    await h.send(*(e.to_json_bytes() for e in held))
    await asyncio.wait_for(entered.wait(), timeout=30)
    await h.brokers.pop().stop()  # cancels the handler: its transaction rolls back
    assert held[2].event_id not in await h.rows() and never.commits == 0
    release.set()
    await h.start(100)  # same group, from the last committed offset: `done` again, then the held batch
    rows = await h.all_applied(held)
    assert {event_id: len(txids) for event_id, txids in rows.items()} == dict.fromkeys(
        [done.event_id, *(e.event_id for e in held)], 1)
    await eventually(_true(lambda: h.duplicates == [done.event_id]), what="the redelivered event seen as a copy")


@pytest.mark.parametrize("batch_size", [1, 100])
async def test_a_batch_handler_gets_only_fresh_events_in_order(harness, batch_size):
    h = harness
    first, second, third = (_event(uuid4()) for _ in range(3))
    await h.send(first.to_json_bytes())
    await h.start(batch_size, batch_handler=True)
    await h.all_applied([first])
    await h.send(first.to_json_bytes(), second.to_json_bytes(), third.to_json_bytes(), second.to_json_bytes())
    await h.all_applied([second, third])
    await eventually(_true(lambda: len(h.duplicates) == 2), what="both copies")
    assert sorted(h.duplicates) == sorted([first.event_id, second.event_id])
    assert [event_id for batch in h.batches for event_id in batch] == [first.event_id, second.event_id, third.event_id]
    if batch_size > 1:
        assert h.batches == [[first.event_id], [second.event_id, third.event_id]]


async def test_a_failing_batch_handler_is_replayed_one_event_at_a_time(harness):
    h = harness
    events = [_event(uuid4()) for _ in range(4)]
    h.broken.add(events[1].event_id)
    await h.send(*(e.to_json_bytes() for e in events))
    inbox = await h.start(100, batch_handler=True)
    good = [events[0], *events[2:]]
    rows = await h.all_applied(good)
    await eventually(_true(lambda: inbox.dead_lettered == 1), what="the bad event dead-lettered")
    assert all(len(rows[e.event_id]) == 1 for e in good) and events[1].event_id not in rows
    assert h.batches[0] == [e.event_id for e in events]  # the whole batch first, then one by one
    assert all([e.event_id] in h.batches for e in good)


def _true(value):
    async def probe():
        return value()
    return probe


async def test_each_handler_of_a_batch_runs_in_its_own_messages_trace(harness):
    from services.kit.telemetry import current_traceparent, trace_id_of

    h = harness
    events = [_event(uuid4()) for _ in range(3)]
    trace_ids = [uuid4().hex for _ in events]
    seen: dict[UUID, str | None] = {}
    apply = h.apply

    async def traced(conn, event):
        seen[event.event_id] = trace_id_of(current_traceparent())
        await apply(conn, event)

    h.apply = traced  # type: ignore[method-assign]
    for event, trace_id in zip(events, trace_ids, strict=True):
        await h.producer.send(TOPIC, event.to_json_bytes(), key=h.key,
                              headers=[("traceparent", f"00-{trace_id}-{uuid4().hex[:16]}-01".encode())])
    await h.producer.flush()
    await h.start(100)
    rows = await h.all_applied(events)
    assert len({txids[0] for txids in rows.values()}) == 1  # one batch
    assert [seen[e.event_id] for e in events] == trace_ids
