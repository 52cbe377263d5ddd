"""Helpers for integration tests: run a service app in-process against real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from fastapi import FastAPI

from services.kit.auth import issue_token
from services.kit.local_secret import install_secret

T = TypeVar("T")


def auth_header(role: str, township_id: str | None = "qingshui", sub: str = "tester", *,
                department_code: str | None = None, **claims) -> dict[str, str]:
    """A bearer header signed with this install's secret (the test session's random one under pytest).

    Extra keyword args go to `issue_token` (ttl, issuer, audience, ...)."""
    token = issue_token(secret=install_secret(), role=role, township_id=township_id, sub=sub,
                        department_code=department_code, **claims)
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the app's lifespan (pool, migrations, broker, relay) and yields an HTTP client on it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0, interval: float = 0.1,
                     what: str = "condition") -> T:
    """Polls until probe returns something truthy; fails with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def topic_partitions(bootstrap: str, topics: list[str]):
    """Every partition of the given topics, as TopicPartitions."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]


async def start_group_at_end(bootstrap: str, group: str, topics: list[str] | None = None) -> None:
    """Commits a new consumer group's offsets at the end of its topics, so a service under test
    reads only what is sent from now on instead of replaying (and re-announcing) the whole history."""
    from aiokafka import AIOKafkaConsumer

    from contracts.topics import EVENT_TOPICS
    from services.kit.topics import ensure_topics

    await ensure_topics(bootstrap)  # on a fresh broker no service has created them yet
    partitions = await topic_partitions(bootstrap, topics or list(EVENT_TOPICS))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def publish_events(bootstrap: str, *events, partition: int | None = None,
                         extra_headers: dict[str, str] | None = None) -> list:
    """Sends envelopes as a producing service's relay would: topic per type, key = case id, type headers."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = []
        for event in events:
            headers = event.kafka_headers() | (extra_headers or {})
            sent.append(await producer.send_and_wait(
                event.TOPIC, event.to_json_bytes(), key=str(event.case_id).encode(), partition=partition,
                headers=[(k, v.encode()) for k, v in headers.items()]))
        return sent
    finally:
        await producer.stop()


async def consume_until(bootstrap: str, topic: str, match, *, timeout: float = 30.0):
    """The first record on `topic` (read from the start) for which `match(record)` is true."""
    from uuid import uuid4

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"probe-{uuid4().hex}", enable_auto_commit=False)
    await consumer.start()
    try:
        async def probe():
            batch = await consumer.getmany(timeout_ms=500)
            return next((r for records in batch.values() for r in records if match(r)), None)
        return await eventually(probe, timeout=timeout, what=f"a matching record on {topic}")
    finally:
        await consumer.stop()
