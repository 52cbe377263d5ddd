"""The kit's inbox draining a topic, batch size 1 (one transaction per event) against larger batches.

Produces BENCH_INBOX_EVENTS events (default 20,000) to a topic of its own (3 partitions, deleted at
the end), then for each batch size of BENCH_INBOX_BATCHES (default 1,100,500), side by side in this
process and on the same PostgreSQL, times an Inbox of a fresh consumer group draining them from the
start with a trivial handler that inserts one row per event (the inbox table and the rows emptied
between runs). Prints events/s per batch size (from the first row applied to the last, so the time a
consumer takes to join its group is left out) and records them for the summary table.
Run: make bench   (or .venv/bin/python -m bench.inbox_batches)
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiokafka import AIOKafkaProducer  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402
from faststream.kafka import KafkaBroker  # noqa: E402

from bench.results import record  # noqa: E402
from bench.submit_to_audit import fresh_database  # noqa: E402
from contracts.envelope import Actor, new_event_id  # noqa: E402
from contracts.events import CaseRated, CaseRatedPayload  # noqa: E402
from deploy import local  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402
from services.kit.inbox import Inbox  # noqa: E402
from services.kit.kafka_security import kafka_client_options, kafka_security  # noqa: E402

NO_SERVICE_MIGRATIONS = ROOT / "bench" / "no_service_migrations"  # none: the kit's tables only


async def produce(bootstrap: str, topic: str, n: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                                **kafka_client_options())
    await producer.start()
    try:
        pending = []
        for _ in range(n):
            case_id = uuid.uuid4()
            event = CaseRated(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC),
                              source="intake", case_id=case_id, stream_version=1, township_id="qingshui",
                              actor=Actor(kind="resident", id="r"), correlation_id=case_id,
                              payload=CaseRatedPayload(score=5, comment="", bad_rating=False))
            pending.append(await producer.send(
                topic, event.to_json_bytes(), key=str(case_id).encode(),
                headers=[(k, v.encode()) for k, v in event.kafka_headers().items()]))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def drain(bootstrap: str, pool: asyncpg.Pool, topic: str, n: int, batch_size: int) -> float:
    """Events/s of a fresh group applying all n events, from the first row seen (joining the group,
    a second or more, would weigh on small runs) to the last."""
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE processed_events, bench_rows")

    async def apply(conn: asyncpg.Connection, event: CaseRated) -> None:
        await conn.execute("INSERT INTO bench_rows (event_id, case_id) VALUES ($1, $2)", event.event_id, event.case_id)

    broker = KafkaBroker(bootstrap, security=kafka_security().faststream(), log_level=logging.DEBUG)  # as services
    inbox = Inbox(broker=broker, group_id=f"bench-inbox-{uuid.uuid4().hex[:8]}", batch_size=batch_size)
    inbox.pool = pool
    inbox.subscribe(topic, {CaseRated: apply}, start="earliest", description="bench")
    started = time.perf_counter()
    await broker.start()
    try:
        async with pool.acquire() as conn:
            last, last_change, first = 0, started, None
            while (count := await conn.fetchval("SELECT count(*) FROM bench_rows")) < n:
                if count != last:
                    if first is None:
                        first = (time.perf_counter(), count)
                    last, last_change = count, time.perf_counter()
                elif time.perf_counter() - last_change > 60:
                    raise SystemExit(f"inbox stopped at {count}/{n} events (batch {batch_size})")
                await asyncio.sleep(0.05)
        ended = time.perf_counter()
    finally:
        await inbox.close()
        await broker.stop()
    if first is None or ended - first[0] < 0.5:  # drained between two looks: the whole run is all there is
        return n / (ended - started)
    return (n - first[1]) / (ended - first[0])


async def run(bootstrap: str, database_url: str, n: int, sizes: list[int]) -> dict[int, float]:
    topic = f"bench.inbox.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_client_options())
    await admin.start()
    pool = await create_pool(database_url, "kit")
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        await apply_migrations(pool, "kit", NO_SERVICE_MIGRATIONS)
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE bench_rows (event_id uuid PRIMARY KEY, case_id uuid NOT NULL)")
        started = time.perf_counter()
        await produce(bootstrap, topic, n)
        print(f"produced {n} events in {time.perf_counter() - started:.1f} s", flush=True)
        rates = {}
        for size in sizes:
            rates[size] = await drain(bootstrap, pool, topic, n, size)
            print(f"inbox, batch {size:>4}: {rates[size]:8.0f} events/s  ({rates[size] / rates[sizes[0]]:.1f}× "
                  f"batch {sizes[0]})", flush=True)
        return rates
    finally:
        await pool.close()
        await admin.delete_topics([topic])
        await admin.close()


def main() -> int:
    n = int(os.environ.get("BENCH_INBOX_EVENTS", "20000"))
    sizes = [int(x) for x in os.environ.get("BENCH_INBOX_BATCHES", "1,100,500").split(",") if x]
    infra = local.ensure_infra()
    os.environ.update(infra.kafka_admin_env)  # the bench's clients connect as admin
    database_url = asyncio.run(fresh_database(infra.database_url))
    print(f"inbox bench: {n} events, batch sizes {sizes}", flush=True)
    rates = asyncio.run(run(infra.kafka_bootstrap, database_url, n, sizes))
    record("inbox", events=n, **{f"inbox_batch_{size}_events_per_s": round(rate) for size, rate in rates.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
