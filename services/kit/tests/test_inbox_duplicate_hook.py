"""The inbox's duplicate hook on real Kafka and PostgreSQL: an event whose id was processed before
reaches the hook, with where it came from, in a transaction, instead of the handler."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload
from services.kit.db import apply_migrations, create_pool
from services.kit.inbox import Delivery, Inbox, RetryPolicy
from services.kit.kafka_security import kafka_client_options, kafka_security
from services.kit.testing import eventually, start_group_at_end

pytestmark = pytest.mark.integration
TOPIC = CaseRated.TOPIC


def _rated(case_id, score: int, event_id=None) -> CaseRated:
    return CaseRated(event_id=event_id or new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC),
                     source="intake", case_id=case_id, stream_version=1, township_id="qingshui",
                     actor=Actor(kind="resident", id="r"), correlation_id=case_id,
                     payload=CaseRatedPayload(score=score, comment="", bad_rating=score <= 2))


async def _true(value):
    return value


async def test_a_duplicate_reaches_the_hook_with_its_delivery_and_not_the_handler(infra, make_database):
    pool = await create_pool(await make_database("it_inbox_dup"), "kit")
    await apply_migrations(pool, "kit", Path(__file__).parent / "none")
    broker = KafkaBroker(infra.kafka_bootstrap, security=kafka_security().faststream())
    group = f"test-inbox-dup-{uuid4().hex[:8]}"
    await start_group_at_end(infra.kafka_bootstrap, group, [TOPIC])  # this test's messages only
    inbox = Inbox(broker=broker, group_id=group, retry=RetryPolicy(max_attempts=2))
    inbox.pool = pool
    applied: list = []
    duplicates: list[tuple[int, Delivery, bool]] = []

    async def apply(conn, event):
        applied.append(event.event_id)

    async def on_duplicate(conn, event, delivery):
        duplicates.append((event.payload.score, delivery, conn.is_in_transaction()))

    inbox.subscribe(TOPIC, {CaseRated: apply}, start="earliest", description="test", on_duplicate=on_duplicate)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, **kafka_client_options())
    await producer.start()
    await broker.start()
    try:
        case_id = uuid4()
        first = _rated(case_id, 5)
        forged = _rated(case_id, 1, event_id=first.event_id)
        key = str(case_id).encode()
        await producer.send_and_wait(TOPIC, first.to_json_bytes(), key=key)
        await eventually(lambda: _true(first.event_id in applied), what="the first event applied")
        sent = await producer.send_and_wait(TOPIC, forged.to_json_bytes(), key=key)
        [(score, delivery, in_transaction)] = await eventually(lambda: _true(duplicates), what="the duplicate hook")
        assert score == 1 and in_transaction
        assert delivery == Delivery(topic=TOPIC, partition=sent.partition, offset=sent.offset)
        assert applied == [first.event_id]
    finally:
        await broker.stop()
        await producer.stop()
        await pool.close()
