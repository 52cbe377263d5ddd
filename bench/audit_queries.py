"""Inspectors' queries over a county's years of events: p50/p99 of one case's history, the county-wide
overdue and ping-pong lists, the figures and a paged event query, with 1,000,000 events stored.

A fresh audit database (PostgreSQL only) is filled with a county's synthetic three years: cases of 20
townships and their departments, each taken in, assigned, sometimes transferred, flagged, breached,
completed, texted and rated. Every record is chained as the consumer would chain it (a valid
sha256 chain from seq 1), folded with the read model's own pure rules (services/audit/read_model.py),
and written with COPY, a chunk of whole cases at a time; then the watermark is set to the head, as
after a catch-up. The queries are the SQL the endpoints run (without HTTP and the access record).
Run: make bench   (or python -m bench.audit_queries --events 1000000 --samples 200)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.submit_to_audit import fresh_database, pct  # noqa: E402
from contracts.departments import DEPARTMENTS  # noqa: E402
from contracts.envelope import new_event_id  # noqa: E402
from contracts.workdays import default_calendar  # noqa: E402
from deploy import local  # noqa: E402
from services.audit import anomaly_store, domain, figure_store, periods, queries, store  # noqa: E402
from services.audit import read_model as rm  # noqa: E402
from services.audit.anomalies import RULES, Limits  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402

TOWNSHIPS = [f"town{n:02d}" for n in range(20)]
CASE_DEPARTMENTS = [d for d in DEPARTMENTS if d != "general_window"]
START = datetime(2023, 11, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86400
NOW = START + timedelta(seconds=SPAN_SECONDS)
LIMITS = Limits(follow_up_working_days=3, rectification_working_days=15, resident_told_hours=24)
LOG_COLUMNS = ("seq", "event_id", "topic", "event_type", "case_id", "township_id", "source", "stream_version",
               "occurred_at", "recorded_at", "trace_id", "envelope", "prev_hash", "hash")
INDEX_COLUMNS = ("seq", "case_id", "township_id", "department_code", "staff_id", "event_type", "occurred_at")
TOPICS = {"intake": "bianmin.intake.cases.v1", "routing": "bianmin.routing.cases.v1", "notify": "bianmin.notify.cases.v1"}


def staff_of(township: str, department: str, rnd: random.Random) -> str:
    return f"{township}-{department}-{rnd.randrange(5):02d}"


def case_events(n: int, rnd: random.Random) -> tuple[str, list[tuple[str, str, dict[str, Any], datetime, dict[str, str]]]]:
    """One case's township and events as (source, type, payload, occurred_at, actor), about ten on average."""
    township, department = rnd.choice(TOWNSHIPS), rnd.choice(CASE_DEPARTMENTS)
    staff = staff_of(township, department, rnd)
    at = START + timedelta(seconds=rnd.randrange(SPAN_SECONDS))
    deadline = at + timedelta(days=7)
    system, clerk = {"kind": "system", "id": "routing"}, {"kind": "staff", "id": staff}
    out: list[tuple[str, str, dict[str, Any], datetime, dict[str, str]]] = [
        ("intake", "CaseSubmitted", {"case_no": f"{township.upper()}-{n:08d}", "item_code": "SB-002",
                                     "item_name": "城乡居民养老保险参保登记", "kind": "promised", "channel": "window",
                                     "department_code": department, "first_contact_staff_id": staff,
                                     "promised_deadline": deadline.isoformat()}, at, clerk),
        ("notify", "NotificationSent", {"recipient_kind": "resident", "template_code": "case_submitted"},
         at + timedelta(seconds=5), system),
        ("notify", "NotificationDelivered", {"recipient_kind": "resident", "template_code": "case_submitted"},
         at + timedelta(seconds=20), system),
        ("routing", "CaseAssigned", {"department_code": department, "staff_id": staff,
                                     "promised_deadline": deadline.isoformat()}, at + timedelta(seconds=2), system),
    ]
    t = at + timedelta(hours=2)
    if rnd.random() < 0.10:
        other = rnd.choice(CASE_DEPARTMENTS)
        staff = staff_of(township, other, rnd)
        out.append(("routing", "CaseTransferred", {"from_department_code": department, "to_department_code": other,
                                                   "to_staff_id": staff, "transfer_count": 1}, t, clerk))
        if rnd.random() < 0.2:
            out.append(("routing", "CaseFlagged", {"reason": "ping_pong", "path": [department, other, department],
                                                   "transfer_count": 2}, t + timedelta(hours=1), system))
        department = other
    out.append(("routing", "DeadlineWarning", {"department_code": department, "staff_id": staff,
                                               "deadline_kind": "case"}, deadline - timedelta(days=1), system))
    late = rnd.random() < 0.08
    if late:
        out.append(("routing", "DeadlineBreached", {"department_code": department, "staff_id": staff,
                                                    "deadline_kind": "case", "promised_deadline": deadline.isoformat()},
                    deadline + timedelta(seconds=5), system))
    if rnd.random() < 0.97 or at > NOW - timedelta(days=10):
        done = deadline + timedelta(days=2) if late else at + timedelta(days=rnd.randrange(1, 6))
        out.append(("routing", "CaseCompleted", {"department_code": department, "result": "granted",
                                                 "on_time": not late, "staff_id": staff,
                                                 "promised_deadline": deadline.isoformat()},
                    done, {"kind": "staff", "id": staff}))
        if rnd.random() < 0.97:
            out.append(("notify", "NotificationSent", {"recipient_kind": "resident",
                                                       "template_code": "case_completed_granted"},
                        done + timedelta(seconds=5), system))
        if rnd.random() < 0.6:
            score = rnd.choice([1, 2, 3, 4, 5, 5, 5, 5, 5, 4])
            out.append(("intake", "CaseRated", {"score": score, "bad_rating": score <= 2},
                        done + timedelta(hours=3), {"kind": "resident", "id": "applicant"}))
    return township, out


def build_chunk(first_case: int, cases: int, seq: int, prev_hash: str, rnd: random.Random):
    """Records (chained from seq + 1), index rows and folded case facts of `cases` whole cases."""
    events = []
    for n in range(first_case, first_case + cases):
        case_id = uuid.uuid4()
        versions: dict[str, int] = {}
        township, happened = case_events(n, rnd)
        for source, kind, payload, at, actor in happened:
            versions[source] = versions.get(source, 0) + 1
            events.append((at, case_id, township, source, versions[source], kind, payload, actor))
    events.sort(key=lambda e: e[0])
    records: list[tuple[Any, ...]] = []
    index: list[tuple[Any, ...]] = []
    folded: dict[uuid.UUID, rm.CaseFacts] = {}
    for at, case_id, township, source, version, kind, payload, actor in events:
        seq += 1
        s = seq
        envelope: dict[str, Any] = {"event_id": str(new_event_id()), "event_type": kind, "schema_version": "1.0",
                    "occurred_at": at.isoformat(), "source": source, "case_id": str(case_id),
                    "stream_version": version, "township_id": township, "actor": actor,
                    "correlation_id": str(case_id), "causation_id": None, "payload": payload}
        draft = domain.AuditRecord(
            seq=s, event_id=uuid.UUID(envelope["event_id"]), topic=TOPICS[envelope["source"]],
            event_type=envelope["event_type"], case_id=uuid.UUID(envelope["case_id"]),
            township_id=envelope["township_id"], source=envelope["source"], stream_version=envelope["stream_version"],
            occurred_at=at, recorded_at=at + timedelta(seconds=1), trace_id=None,
            envelope=domain.canonical_json(envelope), prev_hash=prev_hash, hash="")
        record = domain.AuditRecord(**{**vars(draft), "hash": domain.record_hash(draft)})
        prev_hash = record.hash
        records.append(rm.as_row(record))
        event = rm.LoggedEvent(seq=s, event_id=record.event_id, event_type=record.event_type, case_id=record.case_id,
                               township_id=record.township_id, source=record.source,
                               stream_version=record.stream_version, occurred_at=at, actor_kind=envelope["actor"]["kind"],
                               actor_id=envelope["actor"]["id"], payload=envelope["payload"])
        index.append(rm.as_row(rm.index_row(event)))
        if rm.touches_case(event):
            folded[event.case_id] = rm.fold_case(folded.get(event.case_id), event)
    return records, index, [rm.as_row(f) for f in folded.values()], seq, prev_hash


async def fill(pool: asyncpg.Pool, events: int, chunk_cases: int) -> tuple[int, list[uuid.UUID], float]:
    rnd = random.Random(20261124)
    seq, prev, n, started = 0, domain.GENESIS_HASH, 0, time.perf_counter()
    async with pool.acquire() as conn:
        while seq < events:
            records, index, cases, seq, prev = build_chunk(n, chunk_cases, seq, prev, rnd)
            n += chunk_cases
            async with conn.transaction():
                await conn.copy_records_to_table("audit_log", records=records, columns=LOG_COLUMNS)
                await conn.copy_records_to_table("audit_event_index", records=index, columns=INDEX_COLUMNS)
                await conn.copy_records_to_table("audit_cases", records=cases, columns=rm.CASE_COLUMNS)
            print(f"  {seq:>9,} events, {n:,} cases  ({time.perf_counter() - started:.0f} s)", flush=True)
        await conn.execute("UPDATE audit_read_model_state SET folded_seq = $1", seq)
        await conn.execute("ANALYZE")
        sample = [r["case_id"] for r in await conn.fetch("SELECT case_id FROM audit_cases TABLESAMPLE SYSTEM (1)"
                                                         " LIMIT 1000")]
    return seq, sample, time.perf_counter() - started


async def timed(pool: asyncpg.Pool, samples: int, call) -> tuple[list[float], int]:
    times, rows = [], 0
    async with pool.acquire() as conn:
        for i in range(samples):
            t0 = time.perf_counter()
            rows = len(await call(conn, i))
            times.append((time.perf_counter() - t0) * 1000)
    return times, rows


async def run(events: int, samples: int, chunk_cases: int) -> int:
    dsn = await fresh_database(local.database_url())
    pool = await create_pool(dsn, "audit", max_size=2)
    await apply_migrations(pool, "audit", ROOT / "services" / "audit")
    total, cases, fill_s = await fill(pool, events, chunk_cases)
    async with pool.acquire() as conn:
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        case_rows = await conn.fetchval("SELECT count(*) FROM audit_cases")
    print(f"\nfilled {total:,} events ({case_rows:,} cases) in {fill_s:.0f} s; database {size}")
    rnd = random.Random(7)
    calendar = default_calendar()

    async def history(conn, i):
        return await store.case_records(conn, cases[i % len(cases)])

    def anomaly(kind: str):
        async def call(conn, i):
            rows = await anomaly_store.candidates(conn, kind, now=NOW, limits=LIMITS, township_id=None,
                                                  period=queries.Period(None, None), after=None, limit=50)
            found = [f for f in (RULES[kind](r, NOW, LIMITS, calendar) for r in rows) if f]
            await anomaly_store.evidence(conn, [e for f in found for e in f.evidence])
            return found
        return call

    async def figures(conn, i):
        year = periods.period(datetime(2025, 1, 1).date(), datetime(2025, 12, 31).date())
        return await figure_store.counts(conn, by="department", unit="month", township_id=None, period=year)

    async def events_page(conn, i):
        month = START + timedelta(days=30 * rnd.randrange(35))
        f = queries.EventFilter(township_id=rnd.choice(TOWNSHIPS),
                                period=queries.Period(month.date(), (month + timedelta(days=29)).date()))
        return await queries.events(conn, f, after=None, limit=50)

    async def events_by_staff(conn, i):
        f = queries.EventFilter(staff_id=staff_of(rnd.choice(TOWNSHIPS), rnd.choice(CASE_DEPARTMENTS), rnd))
        return await queries.events(conn, f, after=None, limit=50)

    print(f"\nbench: inspectors' queries over {total:,} audit records ({samples} samples each, ms)")
    print(f"{'query':<46} {'rows':>5} {'p50':>8} {'p99':>8} {'max':>8}")
    for name, call, n in (
        ("one case's history (/cases/{id}/history)", history, samples),
        ("county-wide overdue_case, first page of 50", anomaly("overdue_case"), samples),
        ("county-wide ping_pong, first page of 50", anomaly("ping_pong"), samples),
        ("figures by department and month, one year", figures, max(10, samples // 10)),
        ("events of a township in a month, page of 50", events_page, samples),
        ("events of a staff member, page of 50", events_by_staff, samples),
    ):
        times, rows = await timed(pool, n, call)
        print(f"{name:<46} {rows:>5} {pct(times, 50):>8.2f} {pct(times, 99):>8.2f} {max(times):>8.2f}", flush=True)
    await pool.close()
    print(f"\npeak RSS of the bench process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    conn = await asyncpg.connect(local.database_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}"')
    finally:
        await conn.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_queries", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="audit records to store")
    parser.add_argument("--samples", type=int, default=200, help="timed runs of each query")
    parser.add_argument("--chunk-cases", type=int, default=5000, help="cases generated and copied per transaction")
    args = parser.parse_args(argv)
    local.start_postgres()  # PostgreSQL only: the queries need no Kafka
    return asyncio.run(run(args.events, args.samples, args.chunk_cases))


if __name__ == "__main__":
    sys.exit(main())
