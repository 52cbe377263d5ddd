"""The kit's event store against the `eventsourcing` library's PostgreSQL recorder, side by side.

All in this one process, on the same PostgreSQL, a fresh database for each contender:
ours (services.kit.eventstore.append: head row per case, one multi-row INSERT, NOTIFY at most once
per interval), ours as it was before ADR 38 (`old_append` below: LOCK TABLE, max(stream_version),
one INSERT per event, NOTIFY per append), and the library (eventsourcing 9.5.6,
PostgresApplicationRecorder, psycopg 3) at its default and with POSTGRES_ENABLE_DB_FUNCTIONS=y
(its stored-function insert mode, its fastest). The library is synchronous: it runs in threads
of this process (one for batches, 8 for the writers case, pool of 8 connections); ours runs as
asyncio tasks on an asyncpg pool of 8.

(a) BENCH_STORE_BATCHES transactions of 100 events each, one writer, each to a new case.
(b) 8 concurrent writers, one event per transaction, BENCH_STORE_WRITES each, each to a new case.
(c) one case's history (load_stream, 20 events) p50/p99 with BENCH_STORE_EVENTS rows in the
    table (filled with generate_series), BENCH_STORE_READS reads.
Run: make bench   (or .venv/bin/python -m bench.event_store)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from bench.submit_to_audit import fresh_database, pct  # noqa: E402
from contracts.envelope import (  # noqa: E402
    Actor,
    NewEvent,
    new_event_id,  # noqa: E402
)
from contracts.events import CaseRated, CaseRatedPayload, event_type_name  # noqa: E402
from deploy import local  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402
from services.kit.eventstore import NOTIFY_CHANNEL, Origin, append, load_stream  # noqa: E402
from services.kit.publishable import DEFAULT_MAX_EVENT_BYTES, publishable_body  # noqa: E402

WRITERS = 8
ORIGIN = Origin(actor=Actor(kind="staff", id="bench"))
NO_SERVICE = ROOT / "bench" / "no_service"  # no migrations of its own: the kit's tables only


def _rated() -> NewEvent:
    return NewEvent(CaseRated, CaseRatedPayload(score=5, comment="办得快，态度好", bad_rating=False))


async def old_append(conn: asyncpg.Connection, *, case_id: uuid.UUID, events: list[NewEvent], now: datetime) -> None:
    """The append before ADR 38, kept here only to measure against."""
    await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
    version = await conn.fetchval("SELECT coalesce(max(stream_version), 0) FROM events WHERE case_id = $1", case_id)
    for new in events:
        version += 1
        envelope = new.type(event_type=event_type_name(new.type), event_id=new_event_id(),
                            schema_version=new.type.SCHEMA_VERSION, occurred_at=now, source="intake", case_id=case_id,
                            stream_version=version, township_id="qingshui", actor=ORIGIN.actor, correlation_id=case_id,
                            payload=new.payload)
        body = publishable_body(envelope, max_bytes=DEFAULT_MAX_EVENT_BYTES)
        await conn.execute("INSERT INTO events (event_id, case_id, stream_version, event_type, topic, body, traceparent)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7)", envelope.event_id, case_id, version,
                           envelope.event_type, envelope.TOPIC, body, None)
    await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")


async def new_append(conn: asyncpg.Connection, *, case_id: uuid.UUID, events: list[NewEvent], now: datetime) -> None:
    await append(conn, source="intake", case_id=case_id, township_id="qingshui", origin=ORIGIN, events=events, now=now)


Append = Callable[..., Awaitable[None]]


async def kit_store(dsn: str) -> asyncpg.Pool:
    pool = await create_pool(await fresh_database(dsn), "kit", min_size=WRITERS, max_size=WRITERS)
    await apply_migrations(pool, "kit", NO_SERVICE)
    return pool


async def ours(dsn: str, how: Append, *, batches: int, writes: int) -> tuple[float, float]:
    """(events/s in batches of 100, events/s of 8 writers one event per transaction)."""
    pool = await kit_store(dsn)
    try:
        started = time.perf_counter()
        async with pool.acquire() as conn:
            for _ in range(batches):
                async with conn.transaction():
                    await how(conn, case_id=uuid.uuid4(), events=[_rated() for _ in range(100)], now=datetime.now(UTC))
        batch_rate = batches * 100 / (time.perf_counter() - started)

        async def writer() -> None:
            async with pool.acquire() as conn:
                for _ in range(writes):
                    async with conn.transaction():
                        await how(conn, case_id=uuid.uuid4(), events=[_rated()], now=datetime.now(UTC))

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(WRITERS)))
        return batch_rate, WRITERS * writes / (time.perf_counter() - started)
    finally:
        await pool.close()


def library(dsn: str, *, functions: bool, batches: int, writes: int) -> tuple[float, float]:
    """The same two cases through eventsourcing's PostgresApplicationRecorder, in threads."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresFactory
    from eventsourcing.utils import Environment

    url = urlsplit(asyncio.run(fresh_database(dsn)))
    factory = PostgresFactory(Environment(env={
        "POSTGRES_DBNAME": url.path.lstrip("/"), "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432), "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "", "POSTGRES_POOL_SIZE": str(WRITERS), "POSTGRES_MAX_OVERFLOW": "0",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y" if functions else "n", "CREATE_TABLE": "y",
    }))
    recorder = factory.application_recorder()
    body = publishable_body(_rated().type(
        event_type="CaseRated", event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC),
        source="intake", case_id=uuid.uuid4(), stream_version=1, township_id="qingshui", actor=ORIGIN.actor,
        correlation_id=uuid.uuid4(), payload=_rated().payload), max_bytes=DEFAULT_MAX_EVENT_BYTES).encode()

    def events(n: int) -> list[StoredEvent]:
        case_id = uuid.uuid4()
        return [StoredEvent(originator_id=case_id, originator_version=v, topic="CaseRated", state=body)
                for v in range(1, n + 1)]

    try:
        started = time.perf_counter()
        for _ in range(batches):
            recorder.insert_events(events(100))
        batch_rate = batches * 100 / (time.perf_counter() - started)

        def writer() -> None:
            for _ in range(writes):
                recorder.insert_events(events(1))

        started = time.perf_counter()
        with ThreadPoolExecutor(WRITERS) as threads:
            for done in [threads.submit(writer) for _ in range(WRITERS)]:
                done.result()
        return batch_rate, WRITERS * writes / (time.perf_counter() - started)
    finally:
        factory.close()


async def history_latency(dsn: str, *, stored: int, reads: int) -> tuple[float, float]:
    """load_stream of one 20-event case among `stored` rows: (p50 ms, p99 ms)."""
    pool = await kit_store(dsn)
    try:
        case_id = uuid.uuid4()
        async with pool.acquire() as conn, conn.transaction():
            await new_append(conn, case_id=case_id, events=[_rated() for _ in range(20)], now=datetime.now(UTC))
            template = await conn.fetchval("SELECT body FROM events LIMIT 1")
            # 10 events per filler case, bodies of the same size; published, as a year's rows are.
            await conn.execute(
                "INSERT INTO events (event_id, case_id, stream_version, event_type, topic, body, published_at)"
                " SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(i / 10), 12, '0'))::uuid,"
                " i % 10 + 1, 'CaseRated', 'intake.case-rated', $1, now() FROM generate_series(0, $2 - 1) AS i",
                template, stored - 20)
        async with pool.acquire() as conn:
            await conn.execute("ANALYZE events")
            samples = []
            for _ in range(reads):
                started = time.perf_counter()
                history = await load_stream(conn, case_id)
                samples.append((time.perf_counter() - started) * 1000)
            assert len(history) == 20
        return pct(samples, 50), pct(samples, 99)
    finally:
        await pool.close()


def main() -> int:
    batches = int(os.environ.get("BENCH_STORE_BATCHES", "50"))
    writes = int(os.environ.get("BENCH_STORE_WRITES", "250"))
    stored = int(os.environ.get("BENCH_STORE_EVENTS", "1000000"))
    reads = int(os.environ.get("BENCH_STORE_READS", "1000"))
    dsn = local.ensure_infra().database_url
    print(f"event store: {batches}×100-event batches, {WRITERS} writers × {writes} single-event transactions")
    figures: dict[str, float] = {}
    for name, run in (
        ("ours", lambda: asyncio.run(ours(dsn, new_append, batches=batches, writes=writes))),
        ("ours_before", lambda: asyncio.run(ours(dsn, old_append, batches=batches, writes=writes))),
        ("lib_default", lambda: library(dsn, functions=False, batches=batches, writes=writes)),
        ("lib_functions", lambda: library(dsn, functions=True, batches=batches, writes=writes)),
    ):
        batch_rate, writer_rate = run()
        figures[f"batch100_{name}_events_per_s"] = round(batch_rate)
        figures[f"writers8_{name}_events_per_s"] = round(writer_rate)
        print(f"  {name:14} batches of 100: {batch_rate:8.0f} events/s   8 writers × 1: {writer_rate:8.0f} events/s")
    for case in ("batch100", "writers8"):
        for other in ("ours_before", "lib_default", "lib_functions"):
            ratio = figures[f"{case}_ours_events_per_s"] / figures[f"{case}_{other}_events_per_s"]
            figures[f"{case}_ours_vs_{other}_ratio"] = round(ratio, 2)
            print(f"  {case}: ours / {other} = {ratio:.2f}×")
        # The goal is stated against the library: measured against its faster setting, to be strict.
        best = max(figures[f"{case}_lib_default_events_per_s"], figures[f"{case}_lib_functions_events_per_s"])
        figures[f"{case}_ours_vs_lib_best_ratio"] = round(figures[f"{case}_ours_events_per_s"] / best, 2)
    p50, p99 = asyncio.run(history_latency(dsn, stored=stored, reads=reads))
    print(f"  one case's history (20 events) among {stored:,} stored: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    figures |= {"history_stored_events": stored, "history_p50_ms": round(p50, 2), "history_p99_ms": round(p99, 2)}
    record("event_store", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
