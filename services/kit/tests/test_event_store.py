"""The event store and relay against real PostgreSQL: versions, commit order, republish safety."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from contracts.envelope import Actor, NewEvent
from contracts.events import CaseRated, CaseRatedPayload
from services.kit.db import apply_migrations
from services.kit.eventstore import Origin, append
from services.kit.outbox import OutboxRelay
from services.kit.tests.conftest import NO_SERVICE_MIGRATIONS

pytestmark = pytest.mark.integration


def _rated(score: int = 5) -> NewEvent:
    return NewEvent(CaseRated, CaseRatedPayload(score=score, comment="", bad_rating=score <= 2))


async def _append(conn, case_id, n=1):
    return await append(conn, source="intake", case_id=case_id, township_id="qingshui",
                        origin=Origin(actor=Actor(kind="staff", id="s")), events=[_rated() for _ in range(n)],
                        now=datetime.now(UTC))


async def test_versions_are_gapless_per_case(store):
    _, pool = store
    case_a, case_b = uuid4(), uuid4()
    async with pool.acquire() as conn, conn.transaction():
        first = await _append(conn, case_a, 2)
        other = await _append(conn, case_b, 1)
        third = await _append(conn, case_a, 1)
    assert [e.stream_version for e in first + third] == [1, 2, 3]
    assert other[0].stream_version == 1


async def test_migrations_are_applied_once_and_guarded(store):
    dsn, pool = store
    assert await apply_migrations(pool, "kit", NO_SERVICE_MIGRATIONS) == []
    async with pool.acquire() as conn:
        names = await conn.fetch("SELECT name FROM schema_migrations")
    assert [r["name"] for r in names] == ["kit/000_event_store.sql", "kit/001_delivery.sql", "kit/002_metrics.sql",
                                        "kit/003_stream_heads.sql"]


async def test_relay_publishes_in_order_and_marks_published(store):
    dsn, pool = store
    case_id = uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await _append(conn, case_id, 5)
    sent: list[tuple[str, bytes]] = []

    async def publish(*, topic, body, key, headers):
        sent.append((headers["event_type"], body))

    relay = OutboxRelay(dsn=dsn, schema="kit", publish=publish, poll_interval=0.05)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "kit"})
    try:
        assert await relay.publish_pending(conn) == 5
        assert await relay.publish_pending(conn) == 0
    finally:
        await conn.close()
    versions = [int(body.split(b'"stream_version":')[1].split(b",")[0]) for _, body in sent]
    assert versions == [1, 2, 3, 4, 5]


async def test_relay_failure_leaves_rows_unpublished(store):
    dsn, pool = store
    async with pool.acquire() as conn, conn.transaction():
        await _append(conn, uuid4(), 2)

    async def broken(**_):
        raise ConnectionError("broker away")

    relay = OutboxRelay(dsn=dsn, schema="kit", publish=broken)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "kit"})
    try:
        with pytest.raises(ConnectionError):
            await relay.publish_pending(conn)
        assert await conn.fetchval("SELECT count(*) FROM events WHERE published_at IS NULL") == 2
    finally:
        await conn.close()
