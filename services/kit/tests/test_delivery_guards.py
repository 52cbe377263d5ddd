"""The outbox's guards on real PostgreSQL and Kafka: append refuses what could not be published,
and the relay sets aside a row Kafka refuses without stopping the other cases."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from contracts.envelope import Actor, NewEvent
from contracts.events import CaseRated, CaseRatedPayload
from services.kit.eventstore import Origin, append
from services.kit.kafka_security import kafka_client_options
from services.kit.outbox import OutboxRelay
from services.kit.publishable import EventTooLarge, TextNotAccepted
from services.kit.testing import consume_until

pytestmark = pytest.mark.integration


def _rated(comment: str = "") -> NewEvent:
    return NewEvent(CaseRated, CaseRatedPayload.model_construct(score=5, comment=comment, bad_rating=False))


async def _append(pool, case_id, *events: NewEvent):
    async with pool.acquire() as conn, conn.transaction():
        return await append(conn, source="intake", case_id=case_id, township_id="qingshui",
                            origin=Origin(actor=Actor(kind="resident", id="r")), events=list(events),
                            now=datetime.now(UTC))


async def _count(pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM events")


@pytest.mark.parametrize(("bad", "error"), [
    (_rated("a\x00b"), TextNotAccepted), (_rated("lone \udc00"), TextNotAccepted),
    (_rated("长" * 100_000), EventTooLarge),  # 300 KB of UTF-8
])
async def test_append_refuses_and_writes_nothing_of_the_command(store, bad, error):
    _, pool = store
    with pytest.raises(error) as refused:
        await _append(pool, uuid4(), _rated("fine"), bad)  # the good one goes too: one transaction
    assert refused.value.status == 422
    assert await _count(pool) == 0


async def _insert_raw(pool, case_id, body: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO events (event_id, case_id, stream_version, event_type, topic, body)"
            " VALUES ($1, $2, 1, 'CaseRated', $3, $4)", uuid4(), case_id, CaseRated.TOPIC, body)


async def test_relay_sets_aside_rows_kafka_refuses_and_publishes_the_others(store, infra):
    dsn, pool = store
    too_large, not_json = uuid4(), uuid4()
    # Bypassing append, as a bug or a hand-made fix could: 1.5 MB, over the broker's 1 MiB.
    await _insert_raw(pool, too_large, '{"schema_version":"1.0","comment":"' + "x" * 1_500_000 + '"}')
    await _insert_raw(pool, not_json, "not json")
    others = [(await _append(pool, uuid4(), _rated("好")))[0] for _ in range(3)]

    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all", enable_idempotence=True,
                                **kafka_client_options())
    await producer.start()

    async def publish(*, topic, body, key, headers):
        return await producer.send(topic, body, key=key, headers=[(k, v.encode()) for k, v in headers.items()])

    relay = OutboxRelay(dsn=dsn, schema="kit", publish=publish)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "kit"})
    try:
        assert await relay.publish_pending(conn) == 5
        assert await relay.publish_pending(conn) == 0  # nothing left to try, the set-aside rows included
        rows = {r["case_id"]: r for r in await conn.fetch(
            "SELECT case_id, published_at, set_aside_at, set_aside_reason FROM events")}
    finally:
        await conn.close()
        await producer.stop()
    assert relay.set_aside_count == 2 and relay.published_count == 3
    assert rows[too_large]["set_aside_at"] and "TooLarge" in rows[too_large]["set_aside_reason"]
    assert rows[not_json]["set_aside_at"] and rows[not_json]["set_aside_reason"] == "NotAnEnvelope"
    assert all(rows[e.case_id]["published_at"] and not rows[e.case_id]["set_aside_at"] for e in others)
    for event in others:
        await consume_until(infra.kafka_bootstrap, CaseRated.TOPIC, lambda r, e=event: r.key == str(e.case_id).encode())


async def test_a_transient_failure_still_retries_the_batch(store):
    dsn, pool = store
    await _append(pool, uuid4(), _rated())

    async def broker_away(**_):
        raise ConnectionError("broker away")

    relay = OutboxRelay(dsn=dsn, schema="kit", publish=broker_away)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "kit"})
    try:
        with pytest.raises(ConnectionError):
            await relay.publish_pending(conn)
        assert await conn.fetchval("SELECT count(*) FROM events WHERE published_at IS NULL AND set_aside_at IS NULL") == 1
    finally:
        await conn.close()
