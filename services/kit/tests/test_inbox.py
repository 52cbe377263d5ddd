"""The inbox on real Kafka and PostgreSQL: duplicates, bounded retries, dead letters, offsets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload
from contracts.topics import dlq_of
from services.kit.db import apply_migrations, create_pool
from services.kit.inbox import Inbox, RetryPolicy
from services.kit.kafka_security import kafka_client_options, kafka_security
from services.kit.testing import eventually

pytestmark = pytest.mark.integration
TOPIC = CaseRated.TOPIC


def _event(case_id, score=5) -> CaseRated:
    return CaseRated(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="intake",
                     case_id=case_id, stream_version=1, township_id="qingshui", actor=Actor(kind="resident", id="r"),
                     correlation_id=case_id, payload=CaseRatedPayload(score=score, comment="", bad_rating=score <= 2))


@pytest.fixture
async def harness(infra, make_database):
    dsn = await make_database("it_inbox")
    pool = await create_pool(dsn, "kit")
    await apply_migrations(pool, "kit", Path(__file__).parent / "none")
    broker = KafkaBroker(infra.kafka_bootstrap, security=kafka_security().faststream())
    inbox = Inbox(broker=broker, group_id=f"test-inbox-{uuid4().hex[:8]}", retry=RetryPolicy(max_attempts=3, first_delay=0.01))
    inbox.pool = pool
    applied: list = []
    failures: dict = {}

    async def apply(conn, event):
        left = failures.get(event.event_id, 0)
        if left:
            failures[event.event_id] = left - 1
            raise RuntimeError("handler bug")
        await conn.execute("SELECT 1")
        applied.append(event.event_id)

    inbox.subscribe(TOPIC, {CaseRated: apply}, start="earliest", description="test")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, **kafka_client_options())
    await producer.start()
    await broker.start()
    yield inbox, producer, applied, failures, pool
    await broker.stop()
    await producer.stop()
    await pool.close()


async def _send(producer, value: bytes, key: bytes):
    await producer.send_and_wait(TOPIC, value, key=key)


async def test_duplicate_is_applied_once(harness):
    inbox, producer, applied, _, pool = harness
    event = _event(uuid4())
    for _ in range(3):
        await _send(producer, event.to_json_bytes(), str(event.case_id).encode())
    follower = _event(event.case_id)
    await _send(producer, follower.to_json_bytes(), str(event.case_id).encode())
    await eventually(lambda: _async(follower.event_id in applied), what="the follower event")
    assert applied.count(event.event_id) == 1


async def test_events_of_types_not_subscribed_are_passed_over(harness, infra):
    """A service topic carries every event of its producer; a consumer acts on the types it names."""
    from services.kit.testing import publish_events
    from services.notify.tests.builders import submitted

    _, producer, applied, _, _ = harness
    other = submitted()  # CaseSubmitted shares intake's topic with CaseRated
    await publish_events(infra.kafka_bootstrap, other)
    follower = _event(other.case_id)
    await _send(producer, follower.to_json_bytes(), str(other.case_id).encode())
    await eventually(lambda: _async(follower.event_id in applied), what="the CaseRated behind the CaseSubmitted")
    assert other.event_id not in applied


async def test_transient_handler_failure_is_retried_then_applied(harness):
    _, producer, applied, failures, _ = harness
    event = _event(uuid4())
    failures[event.event_id] = 2  # fewer than max_attempts
    await _send(producer, event.to_json_bytes(), str(event.case_id).encode())
    await eventually(lambda: _async(event.event_id in applied), what="the retried event")


async def test_persistent_failure_and_poison_go_to_dlq_and_consumer_continues(harness, infra):
    inbox, producer, applied, failures, pool = harness
    bad = _event(uuid4())
    failures[bad.event_id] = 99
    key = str(bad.case_id).encode()
    await _send(producer, bad.to_json_bytes(), key)
    await _send(producer, b"\x00garbage", key)
    good = _event(bad.case_id)
    await _send(producer, good.to_json_bytes(), key)
    await eventually(lambda: _async(good.event_id in applied), what="the event behind the failing ones")
    assert bad.event_id not in applied

    consumer = AIOKafkaConsumer(dlq_of(TOPIC), bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest",
                                group_id=f"probe-{uuid4().hex}", **kafka_client_options())
    await consumer.start()
    reasons: list[str] = []
    try:
        async def both_dead_lettered():
            for records in (await consumer.getmany(timeout_ms=300)).values():
                reasons.extend(dict(r.headers)["dlq_reason"].decode() for r in records if r.key == key)
            return len(reasons) >= 2
        await eventually(both_dead_lettered, what="two dead letters")
    finally:
        await consumer.stop()
    assert any(r.startswith("failed 3 times") for r in reasons) and any(r.startswith("unreadable") for r in reasons)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM processed_events WHERE event_id = $1", bad.event_id) == 0
        assert await conn.fetchval("SELECT count(*) FROM dead_letters WHERE reason LIKE 'failed 3 times%'") >= 1


async def _async(value):
    return value


def test_retry_delay_is_capped():
    policy = RetryPolicy(first_delay=0.2, max_delay=1.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 10)] == [0.2, 0.4, 0.8, 1.0, 1.0]


async def test_group_offset_reaches_the_end_once_messages_are_handled(harness, infra):
    from aiokafka.admin import AIOKafkaAdminClient

    inbox, producer, applied, _, _ = harness
    events = [_event(uuid4()) for _ in range(5)]
    for e in events:
        await _send(producer, e.to_json_bytes(), str(e.case_id).encode())
    await eventually(lambda: _async(all(e.event_id in applied for e in events)), what="all five applied")
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap, **kafka_client_options())
    await admin.start()
    try:
        async def caught_up():
            committed = await admin.list_consumer_group_offsets(inbox._group_id)
            ends = await _end_offsets(infra.kafka_bootstrap, list(committed))
            return committed and all(committed[tp].offset == ends[tp] for tp in committed)
        await eventually(caught_up, timeout=15, what="the committed offsets to reach the topic end")
    finally:
        await admin.close()


async def _end_offsets(bootstrap, partitions):
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_client_options())
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
