"""Audit's ingest rate from Kafka, and the rate of a rebuild of the log from Kafka.

1. Places a fresh consumer group at the end of the topics, produces BENCH_AUDIT_EVENTS events (cases of
   five events on routing's and notify's topics), then starts audit (in this process, fresh database) and
   times it draining them: events per second, and the time between consecutive appends (recorded_at in
   seq order; one consumer appends one event at a time, so that is each event's record cost) p50/p99/max.
2. Produces more events until this run has sent BENCH_AUDIT_REBUILD_EVENTS, then rebuilds the log from
   Kafka into another schema (services.audit.rebuild: the same append path, in batches), which reads
   every event topic from the beginning, so every event the local Kafka ever got; printed with the rate.
Run: make bench   (BENCH_AUDIT_EVENTS=10000 drained by the consumer, BENCH_AUDIT_REBUILD_EVENTS=100000)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.submit_to_audit import fresh_database, pct  # noqa: E402
from contracts.envelope import Actor, Envelope, new_event_id  # noqa: E402
from contracts.events import CaseAssigned, CaseAssignedPayload, NotificationSent, NotificationSentPayload  # noqa: E402
from deploy import local  # noqa: E402
from services.audit import rebuild  # noqa: E402
from services.audit.app import create_app  # noqa: E402
from services.audit.settings import AuditSettings  # noqa: E402
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
    gaps_ms = [(b - a).total_seconds() * 1000 for a, b in zip(times, times[1:], strict=False)]
    print(f"audit ingest: {n} events in {wall:.1f} s (start included) = {n / wall:.0f} events/s; "
          f"between appends p50 {pct(gaps_ms, 50):.2f} ms, p99 {pct(gaps_ms, 99):.2f} ms, max {max(gaps_ms):.1f} ms",
          flush=True)


async def rebuild_rate(bootstrap: str, database_url: str) -> None:
    outcome = await rebuild.rebuild(bootstrap=bootstrap, database_url=database_url, schema="audit_rebuild",
                                    quiet=not sys.stderr.isatty(), batch=2000)
    r = outcome.replayed
    print(f"rebuild from Kafka: {r.read} events read ({r.appended} appended) in {r.seconds:.1f} s = {r.rate:.0f} "
          f"events/s; chain {'valid' if outcome.integrity.chain.first_bad is None else 'BROKEN'}; "
          f"{len(outcome.comparison.only_rebuilt)} events on Kafka that this bench's log never took "
          f"(earlier runs), {len(outcome.comparison.only_live)} only in the log, "
          f"{len(outcome.comparison.differing)} differing", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_AUDIT_EVENTS", "10000")))
    parser.add_argument("--rebuild-events", type=int,
                        default=int(os.environ.get("BENCH_AUDIT_REBUILD_EVENTS", "100000")))
    args = parser.parse_args()
    infra = local.ensure_infra()
    os.environ.update(infra.kafka_admin_env)  # the bench's clients connect as admin
    os.environ.setdefault("BIANMIN_ENV", "development")  # audit runs in this process: development JWT key
    database_url = asyncio.run(fresh_database(infra.database_url))
    print(f"audit ingest bench: {args.events} events drained by the consumer, rebuild after "
          f"{max(args.rebuild_events, args.events)} sent", flush=True)
    asyncio.run(ingest(infra.kafka_bootstrap, database_url, args.events))
    if more := args.rebuild_events - args.events:
        seconds = asyncio.run(produce(infra.kafka_bootstrap, more))
        print(f"produced {more} more events in {seconds:.1f} s", flush=True)
    asyncio.run(rebuild_rate(infra.kafka_bootstrap, database_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
