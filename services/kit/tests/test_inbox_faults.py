"""The inbox through PostgreSQL outages and rebalances, and re-driving its dead letters, on real
Kafka and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload
from services.kit import deadletters
from services.kit.db import apply_migrations, create_pool
from services.kit.inbox import Inbox, RetryPolicy
from services.kit.kafka_security import kafka_client_options, kafka_security
from services.kit.offsets import OffsetCommitter
from services.kit.testing import eventually, start_group_at_end

pytestmark = pytest.mark.integration
TOPIC = CaseRated.TOPIC


def _event(case_id: UUID) -> CaseRated:
    return CaseRated(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="intake",
                     case_id=case_id, stream_version=1, township_id="qingshui", actor=Actor(kind="resident", id="r"),
                     correlation_id=case_id, payload=CaseRatedPayload(score=5, comment="", bad_rating=False))


def _true(value):
    async def probe():
        return value()
    return probe


@dataclass
class Harness:
    dsn: str
    pool: asyncpg.Pool
    inbox: Inbox
    producer: AIOKafkaProducer
    applied: list[UUID] = field(default_factory=list)
    broken: set[UUID] = field(default_factory=set)  # events whose handler fails until removed

    async def send(self, value: bytes, key: bytes):
        return await self.producer.send_and_wait(TOPIC, value, key=key)


async def _inbox(bootstrap: str, pool: asyncpg.Pool, group: str, harness_apply, *,
                 offsets: OffsetCommitter | None = None) -> tuple[KafkaBroker, Inbox]:
    broker = KafkaBroker(bootstrap, security=kafka_security().faststream())
    inbox = Inbox(broker=broker, group_id=group, retry=RetryPolicy(max_attempts=2, first_delay=0.05, max_delay=0.5),
                  offsets=offsets)
    inbox.pool = pool
    inbox.subscribe(TOPIC, {CaseRated: harness_apply}, start="earliest", description="test")
    await broker.start()
    return broker, inbox


@pytest.fixture
async def harness(infra, make_database):
    dsn = await make_database("it_inbox_faults")
    pool = await create_pool(dsn, "kit")
    await apply_migrations(pool, "kit", Path(__file__).parent / "none")
    group = f"test-inbox-faults-{uuid4().hex[:8]}"
    await start_group_at_end(infra.kafka_bootstrap, group, [TOPIC])
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, **kafka_client_options())
    await producer.start()
    h = Harness(dsn=dsn, pool=pool, inbox=None, producer=producer)  # type: ignore[arg-type]

    async def apply(conn, event):
        if event.event_id in h.broken:
            raise LookupError("the handler's bug")
        await conn.execute("SELECT 1")
        h.applied.append(event.event_id)

    broker, h.inbox = await _inbox(infra.kafka_bootstrap, pool, group, apply)
    yield h
    await broker.stop()
    await producer.stop()
    await pool.close()


async def _read_only(admin_dsn: str, dsn: str, on: bool) -> None:
    """The database as during a failover or maintenance: every session from now on is read-only
    (then writable again), and the sessions that are open now are cut."""
    name = dsn.rpartition("/")[2]
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}')
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE datname = $1 AND pid <> pg_backend_pid()", name)
    finally:
        await conn.close()


async def _committed(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_client_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
    finally:
        await admin.close()
    meta = offsets.get(tp)
    return meta.offset if meta and meta.offset >= 0 else None


async def test_event_handled_while_read_only_is_applied_once_afterwards_not_dead_lettered(harness, infra):
    h = harness
    event = _event(uuid4())
    await _read_only(infra.database_url, h.dsn, on=True)
    try:
        sent = await h.send(event.to_json_bytes(), str(event.case_id).encode())
        await eventually(_true(lambda: h.inbox.faults["read_only"] + h.inbox.faults["shutdown"] >= 2),
                         what="the inbox to meet the read-only database a few times")
        tp = TopicPartition(TOPIC, sent.partition)
        committed = await _committed(infra.kafka_bootstrap, h.inbox.group_id, tp)
        assert committed is None or committed <= sent.offset, "offset committed ahead of its row"
        assert event.event_id not in h.applied
    finally:
        await _read_only(infra.database_url, h.dsn, on=False)
    await eventually(_true(lambda: event.event_id in h.applied), what="the event applied once writable again")
    await eventually(lambda: _after(infra.kafka_bootstrap, h.inbox.group_id, tp, sent.offset),
                     what="the offset committed after the row")
    assert h.applied.count(event.event_id) == 1 and h.inbox.dead_lettered == 0
    async with h.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 0
        assert await conn.fetchval("SELECT count(*) FROM processed_events WHERE event_id = $1", event.event_id) == 1


async def _after(bootstrap, group, tp, offset) -> bool:
    committed = await _committed(bootstrap, group, tp)
    return committed is not None and committed > offset


async def test_a_dead_letter_waits_out_the_outage_and_is_stored_once(harness, infra):
    h = harness
    key = uuid4().hex.encode()
    await _read_only(infra.database_url, h.dsn, on=True)
    try:
        sent = await h.send(b"\x00not an event", key)
        await eventually(_true(lambda: sum(h.inbox.faults.values()) >= 2), what="the dead letter to meet the outage")
        assert h.inbox.dead_lettered == 0
        committed = await _committed(infra.kafka_bootstrap, h.inbox.group_id, TopicPartition(TOPIC, sent.partition))
        assert committed is None or committed <= sent.offset, "offset moved before the dead letter was kept"
    finally:
        await _read_only(infra.database_url, h.dsn, on=False)
    await eventually(_true(lambda: h.inbox.dead_lettered == 1), what="the dead letter kept once writable")
    async with h.pool.acquire() as conn:
        row = await conn.fetchrow('SELECT reason, message_key, message_value, consumer_group FROM dead_letters'
                                  ' WHERE "offset" = $1 AND partition = $2', sent.offset, sent.partition)
    assert row["message_value"] == b"\x00not an event" and row["message_key"] == key
    assert row["consumer_group"] == h.inbox.group_id and row["reason"].startswith("unreadable: ")


async def test_dead_letters_are_redriven_once_after_the_fix(harness):
    h = harness
    event, later = _event(uuid4()), _event(uuid4())
    h.broken.add(event.event_id)
    await h.send(event.to_json_bytes(), str(event.case_id).encode())
    await h.send(b"{}", b"junk")
    await h.send(later.to_json_bytes(), str(later.case_id).encode())
    await eventually(_true(lambda: later.event_id in h.applied and h.inbox.dead_lettered == 2),
                     what="two dead letters and the event behind them applied")
    async with h.pool.acquire() as conn:
        reason = await conn.fetchval("SELECT reason FROM dead_letters WHERE message_key = $1",
                                     str(event.case_id).encode())
    assert reason == "failed 2 times: LookupError"

    h.broken.clear()  # the fix is deployed
    first = await deadletters.redrive(h.inbox)
    assert (first.redriven, first.failed, first.unavailable) == (1, 1, 0)  # the junk still cannot be read
    assert h.applied.count(event.event_id) == 1
    again = await deadletters.redrive(h.inbox)
    assert (again.redriven, again.failed) == (0, 1) and h.applied.count(event.event_id) == 1
    async with h.pool.acquire() as conn:
        junk = await conn.fetchrow("SELECT redriven_at, redrive_error FROM dead_letters WHERE message_key = 'junk'")
    assert junk["redriven_at"] is None and junk["redrive_error"] == "ValueError"


async def test_redriving_an_event_applied_meanwhile_is_a_no_op(harness):
    h = harness
    event = _event(uuid4())
    h.broken.add(event.event_id)
    await h.send(event.to_json_bytes(), str(event.case_id).encode())
    await eventually(_true(lambda: h.inbox.dead_lettered == 1), what="the dead letter")
    h.broken.clear()
    await h.send(event.to_json_bytes(), str(event.case_id).encode())  # the producer sent it again
    await eventually(_true(lambda: event.event_id in h.applied), what="the second copy applied")
    result = await deadletters.redrive(h.inbox)
    assert result.redriven == 1 and h.applied.count(event.event_id) == 1


async def test_offsets_of_revoked_partitions_are_committed_before_they_move(harness, infra, make_database):
    """Two members of one group: when the second joins, the first commits what it handled on the
    partitions it gives up, though its own batch size and idle interval are far away."""
    h = harness
    pool = await create_pool(await make_database("it_rebalance"), "kit")  # the harness's group dedupes in its own
    await apply_migrations(pool, "kit", Path(__file__).parent / "none")
    group = f"test-rebalance-{uuid4().hex[:8]}"
    await start_group_at_end(infra.kafka_bootstrap, group, [TOPIC])
    seen: list[UUID] = []

    async def apply(conn, event):
        seen.append(event.event_id)

    slow = OffsetCommitter(every=10_000, interval=3600)
    first_broker, _ = await _inbox(infra.kafka_bootstrap, pool, group, apply, offsets=slow)
    second_broker = None
    try:
        events = [_event(uuid4()) for _ in range(12)]
        sent = [await h.send(e.to_json_bytes(), str(e.case_id).encode()) for e in events]
        await eventually(_true(lambda: all(e.event_id in seen for e in events)), what="the first member to handle all")
        assert slow.commits == 0
        second_broker, _ = await _inbox(infra.kafka_bootstrap, pool, group, apply,
                                        offsets=OffsetCommitter(every=10_000, interval=3600))
        last = {}
        for s in sent:
            last[TopicPartition(TOPIC, s.partition)] = max(last.get(TopicPartition(TOPIC, s.partition), -1), s.offset)
        await eventually(_true(lambda: slow.commits >= 1), timeout=60, what="the rebalance to revoke partitions")
        # Every partition is revoked when a member joins (eager rebalancing), so each one's offset
        # is committed after its last handled message, by the revoke and nothing else.
        committed = {tp: await _committed(infra.kafka_bootstrap, group, tp) for tp in last}
        assert committed == {tp: offset + 1 for tp, offset in last.items()}
    finally:
        if second_broker:
            await second_broker.stop()
        await first_broker.stop()
        await pool.close()
