"""Appends without a table lock (ADR 38), on real PostgreSQL and Kafka: one case's appends queue on
its head row and get gapless versions, other cases' appends do not wait, a rollback consumes no
version, and the relay publishes every row once, in version order per case, under concurrent writers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.envelope import Actor, NewEvent
from contracts.events import CaseRated, CaseRatedPayload
from services.kit.eventstore import Origin, append
from services.kit.kafka_security import kafka_client_options
from services.kit.outbox import OutboxRelay
from services.kit.testing import eventually
from services.kit.topics import topic_partitions

pytestmark = pytest.mark.integration


def _rated() -> NewEvent:
    return NewEvent(CaseRated, CaseRatedPayload(score=5, comment="", bad_rating=False))


async def _append(conn, case_id: UUID, n: int = 1):
    return await append(conn, source="intake", case_id=case_id, township_id="qingshui",
                        origin=Origin(actor=Actor(kind="staff", id="s")), events=[_rated() for _ in range(n)],
                        now=datetime.now(UTC))


async def _append_in_tx(pool, case_id: UUID, n: int = 1):
    async with pool.acquire() as conn, conn.transaction():
        return await _append(conn, case_id, n)


async def _versions(pool, case_id: UUID) -> list[int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT stream_version FROM events WHERE case_id = $1 ORDER BY position", case_id)
    return [r["stream_version"] for r in rows]


async def _waiting_on_a_lock(pool, pid: int) -> bool:
    async with pool.acquire() as conn:
        return bool(await conn.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid))


async def test_concurrent_appends_to_one_case_get_gapless_versions(store):
    _, pool = store
    case_id = uuid4()
    # 8 writers, 6 appends of 1 to 3 events each, all on one case, from their own connections.
    await asyncio.gather(*(_append_in_tx(pool, case_id, 1 + (w + i) % 3) for w in range(8) for i in range(6)))
    versions = await _versions(pool, case_id)
    assert versions == list(range(1, len(versions) + 1))  # position order is version order: no gap, no duplicate
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT version FROM event_streams WHERE case_id = $1", case_id) == len(versions)


async def test_an_open_append_holds_only_its_own_case(store):
    _, pool = store
    busy, other = uuid4(), uuid4()
    async with pool.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await _append(holder, busy)
        # Another case: done while the first transaction is still open (bounded, not timed).
        [appended] = await asyncio.wait_for(_append_in_tx(pool, other), timeout=30)
        assert appended.stream_version == 1
        # The same case: queues on the head row until the holder commits, then takes version 2.
        async with pool.acquire() as second:
            second_pid = second.get_server_pid()
            queued = asyncio.create_task(_in_tx(second, busy))
            await eventually(lambda: _waiting_on_a_lock(pool, second_pid), timeout=30, what="the second append to wait")
            assert not queued.done()
            await tx.commit()
            [late] = await asyncio.wait_for(queued, timeout=30)
    assert late.stream_version == 2
    assert await _versions(pool, busy) == [1, 2]


async def _in_tx(conn, case_id: UUID):
    async with conn.transaction():
        return await _append(conn, case_id)


async def test_a_rolled_back_append_consumes_no_version(store):
    _, pool = store
    case_id = uuid4()
    await _append_in_tx(pool, case_id, 2)
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await _append(conn, case_id, 3)
        await tx.rollback()
    [next_one] = await _append_in_tx(pool, case_id)
    assert next_one.stream_version == 3
    assert await _versions(pool, case_id) == [1, 2, 3]


async def test_relay_publishes_each_row_once_in_case_order_under_concurrent_writers(store, infra):
    dsn, pool = store
    cases = [uuid4() for _ in range(4)]
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, enable_auto_commit=False,
                                **kafka_client_options())
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all", enable_idempotence=True,
                                **kafka_client_options())
    await producer.start()

    async def publish(*, topic, body, key, headers):
        return await producer.send(topic, body, key=key, headers=[(k, v.encode()) for k, v in headers.items()])

    relay = OutboxRelay(dsn=dsn, schema="kit", publish=publish, poll_interval=0.05)
    try:
        partitions = await topic_partitions(infra.kafka_bootstrap, [CaseRated.TOPIC])
        consumer.assign(partitions)
        for tp, end in (await consumer.end_offsets(partitions)).items():
            consumer.seek(tp, end)
        relay.start()  # publishes while the writers append
        await asyncio.gather(*(_append_in_tx(pool, case, 1 + w % 2) for w in range(8) for _ in range(5)
                               for case in cases))
        expected = {case: await _versions(pool, case) for case in cases}
        received: dict[UUID, list[int]] = {case: [] for case in cases}

        async def all_received() -> bool:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    envelope = json.loads(record.value)
                    case = UUID(envelope["case_id"])
                    if case in received:
                        received[case].append(envelope["stream_version"])
            return all(len(received[c]) >= len(expected[c]) for c in cases)

        await eventually(all_received, timeout=60, what="every appended event on Kafka")
    finally:
        await relay.stop()
        await producer.stop()
        await consumer.stop()
    for case in cases:
        assert received[case] == expected[case] == list(range(1, len(expected[case]) + 1))
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events WHERE published_at IS NULL") == 0

