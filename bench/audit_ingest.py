"""Audit's ingest rate from Kafka, and the rate of a rebuild of the log from Kafka.

1. Places a fresh consumer group at the end of the topics, produces BENCH_AUDIT_EVENTS events (cases of
   five events on routing's and notify's topics), then starts audit (in this process, fresh database) and
   times it draining them: events per second, and how many transactions that took (the consumer applies
   each batch it is handed in one; records of a batch share recorded_at).
2. Produces more events until this run has sent BENCH_AUDIT_REBUILD_EVENTS, then rebuilds the log from
   Kafka into another schema (services.audit.rebuild: the same append path, in batches), which reads
   every event topic from the beginning, so every event the local Kafka ever got; printed with the rate.
3. Appends prepared events directly (no Kafka), each way into its own fresh schema, chain and tree kept:
   one by one (commands.record_event, one transaction each: BENCH_AUDIT_DIRECT_ONE_EVENTS) and in batches of
   500 and 5,000 (batch_append.record_events, one transaction per batch: BENCH_AUDIT_DIRECT_EVENTS each), side
   by side in this run; each chain verified after. BENCH_AUDIT_PROFILE=1 prints the batch path's cProfile top.
Run: make bench   (BENCH_AUDIT_EVENTS=10000 drained by the consumer, BENCH_AUDIT_REBUILD_EVENTS=50000,
BENCH_AUDIT_DIRECT_EVENTS=20000, BENCH_AUDIT_DIRECT_ONE_EVENTS=2000)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from bench.submit_to_audit import fresh_database  # noqa: E402
from contracts.envelope import Actor, Envelope, new_event_id  # noqa: E402
from contracts.events import CaseAssigned, CaseAssignedPayload, NotificationSent, NotificationSentPayload  # noqa: E402
from deploy import local  # noqa: E402
from services.audit import batch_append, commands, rebuild  # noqa: E402
from services.audit.app import create_app  # noqa: E402
from services.audit.settings import AuditSettings  # noqa: E402
from services.kit.clock import SystemClock  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402
from services.kit.kafka_security import kafka_client_options  # noqa: E402
from services.kit.testing import running_app  # noqa: E402
from services.kit.topics import start_group_at_end  # noqa: E402


def case_events(case_id: uuid.UUID) -> list[Envelope]:
    """Five events of one case: three on routing's topic, two on notify's, versions 1, 2, 3 and 1, 2.

    None on intake's topics: tests there read CaseRated from the beginning with a fresh group, and a
    hundred thousand of them on the local Kafka would keep those tests busy for minutes.
    """
    now = datetime.now(UTC)
    assigned: list[Envelope] = [
        CaseAssigned(event_id=new_event_id(), schema_version="1.0", occurred_at=now, source="routing", case_id=case_id,
                     stream_version=v, township_id="qingshui", actor=Actor(kind="system", id="routing"),
                     correlation_id=case_id,
                     payload=CaseAssignedPayload(department_code="social_security", department_name="社保站",
                                                 staff_id="staff-0012", promised_deadline=now))
        for v in (1, 2, 3)]
    sent: list[Envelope] = [
        NotificationSent(event_id=new_event_id(), schema_version="1.0", occurred_at=now, source="notify",
                         case_id=case_id, stream_version=v, township_id="qingshui",
                         actor=Actor(kind="system", id="notify"), correlation_id=case_id,
                         payload=NotificationSentPayload(message_id=uuid.uuid4(), recipient_kind="resident",
                                                         recipient_masked="138****8000", template_code="case_submitted",
                                                         trigger_event_id=assigned[0].event_id, provider="dev",
                                                         provider_message_id=f"dev-{v}"))
        for v in (1, 2)]
    return [*assigned, *sent]


async def produce(bootstrap: str, n: int) -> float:
    """n events, as a relay sends them; returns the seconds it took."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                                **kafka_client_options())
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for i in range(0, n, 5):
            case_id = uuid.uuid4()
            case = case_events(case_id)[: n - i]
            for event in case:
                pending.append(await producer.send(event.TOPIC, event.to_json_bytes(), key=str(case_id).encode(),
                                                   headers=[(k, v.encode()) for k, v in event.kafka_headers().items()]))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def ingest(bootstrap: str, database_url: str, n: int) -> None:
    suffix = f"-bench-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(bootstrap, f"bianmin-audit{suffix}")
    seconds = await produce(bootstrap, n)
    print(f"produced {n} events in {seconds:.1f} s ({n / seconds:.0f}/s)", flush=True)
    settings = AuditSettings.model_validate({"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                                             "BIANMIN_CONSUMER_GROUP_SUFFIX": suffix})
    app = create_app(settings)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "audit"})
    try:
        started = time.perf_counter()
        async with running_app(app):
            last, last_change = 0, time.perf_counter()
            while (count := await conn.fetchval("SELECT count(*) FROM audit_log")) < n:
                if count != last:
                    last, last_change = count, time.perf_counter()
                elif time.perf_counter() - last_change > 120:
                    raise SystemExit(f"audit stopped at {count}/{n} events")
                await asyncio.sleep(0.5)
            wall = time.perf_counter() - started
        times = [r["recorded_at"] for r in await conn.fetch("SELECT recorded_at FROM audit_log ORDER BY seq")]
    finally:
        await conn.close()
    # A batch's records share recorded_at (one `now` per transaction): distinct values count the transactions.
    transactions = len(set(times))
    print(f"audit ingest: {n} events in {wall:.1f} s (start included) = {n / wall:.0f} events/s, "
          f"in {transactions} transactions ({n / transactions:.0f} events each on average)", flush=True)
    record("audit_ingest", consumer_drain_events=n, consumer_drain_events_per_s=round(n / wall),
           consumer_drain_events_per_transaction=round(n / transactions))


def prepared(n: int) -> list[batch_append.Item]:
    return [batch_append.Item(e, None) for i in range(0, n, 5) for e in case_events(uuid.uuid4())[: n - i]]


async def _direct(database_url: str, schema: str, items: list[batch_append.Item], batch: int | None,
                  profile: bool) -> float:
    """Events/s appending `items` into a fresh schema: one transaction per event (batch None) or per batch."""
    pool = await create_pool(database_url, schema, min_size=1, max_size=2)
    try:
        await apply_migrations(pool, schema, Path(commands.__file__).parent)
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        async with pool.acquire() as conn:
            if profiler:
                profiler.enable()
            if batch is None:
                for item in items:
                    async with conn.transaction():
                        await commands.record_event(conn, item.event, now=datetime.now(UTC))
            else:
                for i in range(0, len(items), batch):
                    async with conn.transaction():
                        await batch_append.record_events(conn, items[i:i + batch], now=datetime.now(UTC))
            if profiler:
                profiler.disable()
        seconds = time.perf_counter() - started
        integrity = await commands.verify_integrity(pool, SystemClock(), chunk=5000)
        if integrity.chain.first_bad is not None or integrity.chain.records != len(items):
            raise SystemExit(f"{schema}: chain broken or incomplete ({integrity.chain})")
    finally:
        await pool.close()
    if profiler:
        print(f"cProfile of {schema} (cumulative, top 25):", flush=True)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return len(items) / seconds


async def direct_rates(database_url: str, n_batch: int, n_one: int, profile: bool) -> None:
    one = await _direct(database_url, "direct_one", prepared(n_one), None, False)
    rates = {size: await _direct(database_url, f"direct_{size}", prepared(n_batch), size, profile and size == 5000)
             for size in (500, 5000)}
    print(f"direct append, chain kept and verified: one by one {one:.0f} events/s ({n_one} events); "
          f"batches of 500 {rates[500]:.0f} events/s, of 5000 {rates[5000]:.0f} events/s ({n_batch} events each) = "
          f"{rates[5000] / one:.0f}x", flush=True)
    record("audit_ingest", direct_one_by_one_events_per_s=round(one), direct_batch_500_events_per_s=round(rates[500]),
           direct_batch_5000_events_per_s=round(rates[5000]), direct_batch_events=n_batch)


async def rebuild_rate(bootstrap: str, database_url: str) -> None:
    outcome = await rebuild.rebuild(bootstrap=bootstrap, database_url=database_url, schema="audit_rebuild",
                                    quiet=not sys.stderr.isatty(), batch=5000)
    r = outcome.replayed
    record("audit_ingest", rebuild_events=r.read, rebuild_events_per_s=round(r.rate),
           rebuild_chain_valid=outcome.integrity.chain.first_bad is None)
    print(f"rebuild from Kafka: {r.read} events read ({r.appended} appended) in {r.seconds:.1f} s = {r.rate:.0f} "
          f"events/s; chain {'valid' if outcome.integrity.chain.first_bad is None else 'BROKEN'}; "
          f"{len(outcome.comparison.only_rebuilt)} events on Kafka that this bench's log never took "
          f"(earlier runs), {len(outcome.comparison.only_live)} only in the log, "
          f"{len(outcome.comparison.differing)} differing", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_AUDIT_EVENTS", "10000")))
    parser.add_argument("--rebuild-events", type=int,
                        default=int(os.environ.get("BENCH_AUDIT_REBUILD_EVENTS", "50000")))
    parser.add_argument("--direct-events", type=int, default=int(os.environ.get("BENCH_AUDIT_DIRECT_EVENTS", "20000")))
    parser.add_argument("--direct-one-events", type=int,
                        default=int(os.environ.get("BENCH_AUDIT_DIRECT_ONE_EVENTS", "2000")))
    parser.add_argument("--profile", action="store_true", default=os.environ.get("BENCH_AUDIT_PROFILE") == "1")
    parser.add_argument("--only-direct", action="store_true", help="only the direct append figures (no Kafka)")
    args = parser.parse_args()
    infra = local.ensure_infra()
    os.environ.update(infra.kafka_admin_env)  # the bench's clients connect as admin
    os.environ.setdefault("BIANMIN_ENV", "development")  # audit runs in this process: development JWT key
    database_url = asyncio.run(fresh_database(infra.database_url))
    print(f"audit ingest bench: {args.events} events drained by the consumer, rebuild after "
          f"{max(args.rebuild_events, args.events)} sent", flush=True)
    asyncio.run(direct_rates(database_url, args.direct_events, args.direct_one_events, args.profile))
    if args.only_direct:
        return 0
    asyncio.run(ingest(infra.kafka_bootstrap, database_url, args.events))
    if more := args.rebuild_events - args.events:
        seconds = asyncio.run(produce(infra.kafka_bootstrap, more))
        print(f"produced {more} more events in {seconds:.1f} s", flush=True)
    asyncio.run(rebuild_rate(infra.kafka_bootstrap, database_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
