"""Helpers for integration tests: run a service app in-process against real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypeVar

import httpx
from fastapi import FastAPI

from services.kit.kafka_security import kafka_client_options
from services.kit.token import bearer_header
from services.kit.topics import start_group_at_end, topic_partitions

__all__ = ["start_group_at_end", "topic_partitions"]  # re-exported: tests wait on them like the bench does

T = TypeVar("T")


def auth_header(role: str, township_id: str | None = "qingshui", sub: str = "tester", **claims) -> dict[str, str]:
    """`bearer_header` with the defaults the tests use."""
    return bearer_header(role, township_id, sub, **claims)


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


async def publish_events(bootstrap: str, *events, partition: int | None = None,
                         extra_headers: dict[str, str] | None = None) -> list:
    """Sends envelopes as a producing service's relay would: topic per type, key = case id, type headers."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_client_options(), acks="all", enable_idempotence=True)
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


async def publish_records(bootstrap: str, topic: str, records: list[tuple[bytes, bytes | None]]) -> list:
    """Sends keyed records as they are (value None: a tombstone), in order."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_client_options(), acks="all",
                                enable_idempotence=True)
    await producer.start()
    try:
        return [await producer.send_and_wait(topic, value, key=key) for key, value in records]
    finally:
        await producer.stop()


async def consume_until(bootstrap: str, topic: str, match, *, timeout: float = 30.0):
    """The first record on `topic` (read from the start) for which `match(record)` is true."""
    from uuid import uuid4

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, **kafka_client_options(), auto_offset_reset="earliest",
                                group_id=f"probe-{uuid4().hex}", enable_auto_commit=False)
    await consumer.start()
    try:
        async def probe():
            batch = await consumer.getmany(timeout_ms=500)
            return next((r for records in batch.values() for r in records if match(r)), None)
        return await eventually(probe, timeout=timeout, what=f"a matching record on {topic}")
    finally:
        await consumer.stop()


class FixedClock:
    """A clock that says what a test sets: `clock.at = …` moves time for the app whose runtime holds it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """One more HTTP client on an app `running_app` already runs, calling from `address` (per-address limits)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
