"""Routing's durable deadline timers: the cost of firing those due in one minute, with 1,000,000 open
deadlines beside 10,000, and the delay of each firing past its due time.

For each size, a fresh routing database (PostgreSQL only) is filled server-side: the open cases, a
warning and a breach timer each on the real working calendar over the next 30 working days, and one
placeholder event per case; then BENCH_TIMER_DUE more cases whose timer (half warnings, half breaches)
falls due inside the minute after a fixed "now". The real scanner (DeadlineScanner.scan_once, which
fires one timer per transaction) runs through that minute on a clock that runs in real time while a
scan works and skips the idle wait between scans (`deadline_scan_seconds`), so a firing's delay is the
one a production scanner shows: waiting for the next scan plus the queue inside it, without the
minute of wall time. Then the same timers, re-armed, all fall due at once (the 08:00 wave of
warnings) for one and for two scanners on their own pools.
Run: make bench   (BENCH_TIMER_OPEN=10000,1000000 open deadlines, BENCH_TIMER_DUE=2000 due in the minute)
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.submit_to_audit import fresh_database, pct  # noqa: E402
from contracts.departments import DEPARTMENTS  # noqa: E402
from contracts.events import DeadlineBreached  # noqa: E402
from contracts.workdays import default_calendar  # noqa: E402
from deploy import local  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402
from services.kit.service import Runtime  # noqa: E402
from services.routing import timers_store  # noqa: E402
from services.routing.alerts import CASE_KEY, timers_for  # noqa: E402
from services.routing.deadlines import DeadlineScanner  # noqa: E402
from services.routing.directory import STAFF  # noqa: E402
from services.routing.settings import RoutingSettings  # noqa: E402

SCHEMA = "routing"
SERVICE_DIR = ROOT / "services" / "routing"
NOW = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)  # 10:00 on a Tuesday in Asia/Shanghai
MINUTE = timedelta(minutes=1)
WORKING_DAYS = 30
SUBJECT = "个体工商户变更登记"


class SkippingClock:
    """Runs in real time from the last `skip_to`; the scan loop skips to the next scan instead of sleeping."""

    def __init__(self, at: datetime) -> None:
        self.skip_to(at)

    def skip_to(self, at: datetime) -> None:
        self._base, self._started = at, time.perf_counter()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.perf_counter() - self._started)


@dataclass
class Firing:
    label: str
    open_deadlines: int
    fired: int
    busy: float  # seconds the scanners worked (not the skipped waits)
    delays_ms: list[float]

    def row(self) -> str:
        delays = (f"{pct(self.delays_ms, 50):>8.0f} {pct(self.delays_ms, 99):>8.0f} {max(self.delays_ms):>8.0f}"
                  if self.delays_ms else f"{'-':>8} {'-':>8} {'-':>8}")
        return (f"{self.open_deadlines:>10,} {self.label:<22} {self.fired:>6} {self.busy:>8.2f} "
                f"{self.fired / self.busy:>9.0f} {delays}")


def scan_runtime(pool: asyncpg.Pool, clock: Any) -> Runtime:
    """scan_once reads only the pool and the clock of the service's runtime."""
    return cast(Runtime, SimpleNamespace(pool=pool, clock=clock))


# ---------------------------------------------------------------- filling

def calendar_deadlines() -> tuple[list[datetime], list[datetime], list[int]]:
    """The case deadlines of the next WORKING_DAYS working days, each with its warning time, on the real calendar."""
    calendar = default_calendar()
    deadlines, warnings, limits = [], [], []
    for days in range(1, WORKING_DAYS + 1):
        deadline = calendar.deadline_for(NOW, days)
        warning, breach = timers_for(CASE_KEY, deadline=deadline, start=NOW, deadline_kind="case", subject=SUBJECT,
                                     calendar=calendar, warning_days=1)
        assert warning.kind == "warning" and warning.due_at > NOW + MINUTE  # none of these in the minute
        deadlines.append(breach.deadline)
        warnings.append(warning.due_at)
        limits.append(days)
    return deadlines, warnings, limits


async def fill_open(conn: asyncpg.Connection, n: int) -> None:
    """n open cases spread over the staff and the 30 deadlines, with their timers and one published event each."""
    deadlines, warnings, limits = calendar_deadlines()
    staff = [(s["staff_id"], s["township_id"], s["department_code"], DEPARTMENTS[s["department_code"]]) for s in STAFF]
    chunk = 200_000  # progress lines, and no single statement holding everything
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        t0 = time.perf_counter()
        await conn.execute(
            "INSERT INTO cases (case_id, case_no, township_id, item_code, item_name, department_code, department_name,"
            " staff_id, status, promised_deadline, kind, clock_start, limit_days, path)"
            " SELECT gen_random_uuid(), 'BM' || lpad(i::text, 9, '0'), ($3::text[])[1 + i % $7],"
            " 'bench-item', $10, ($4::text[])[1 + i % $7], ($5::text[])[1 + i % $7], ($2::text[])[1 + i % $7],"
            " 'assigned', ($6::timestamptz[])[1 + i % $8], 'promised', $9, ($11::int[])[1 + i % $8],"
            " ARRAY[($4::text[])[1 + i % $7]]"
            " FROM generate_series($1::int, $12::int) AS i",
            start + 1, [s[0] for s in staff], [s[1] for s in staff], [s[2] for s in staff], [s[3] for s in staff],
            deadlines, len(staff), len(deadlines), NOW, SUBJECT, limits, stop)
        print(f"  cases {stop:>9,} of {n:,}  ({time.perf_counter() - t0:.1f} s)", flush=True)
    t0 = time.perf_counter()
    await conn.execute(
        "INSERT INTO deadline_timers (case_id, deadline_key, kind, due_at, deadline, deadline_kind, subject)"
        " SELECT c.case_id, 'case', k.kind, CASE k.kind WHEN 'warning' THEN d.warn_at ELSE d.deadline END,"
        " d.deadline, 'case', c.item_name"
        " FROM cases c JOIN unnest($1::timestamptz[], $2::timestamptz[]) AS d(deadline, warn_at)"
        " ON d.deadline = c.promised_deadline CROSS JOIN (VALUES ('warning'), ('breach')) AS k(kind)",
        deadlines, warnings)
    print(f"  timers {2 * n:>8,}  ({time.perf_counter() - t0:.1f} s)", flush=True)
    t0 = time.perf_counter()
    # What the case's own stream holds is not read when a timer fires; only its size under the unique
    # (case_id, stream_version) index matters for the append, so one already published row per case.
    await conn.execute(
        "INSERT INTO events (event_id, case_id, stream_version, event_type, topic, body, published_at)"
        " SELECT gen_random_uuid(), case_id, 1, 'CaseAssigned', $1, '{}', $2 FROM cases", DeadlineBreached.TOPIC, NOW)
    print(f"  events {n:>8,}  ({time.perf_counter() - t0:.1f} s)", flush=True)


async def fill_minute(conn: asyncpg.Connection, n: int, staff_id: str) -> list[uuid.UUID]:
    """n cases with one timer each falling due inside the minute after NOW: odd ones a breach (the warning
    already given), even ones a warning (the breach at the end of the day)."""
    end_of_day = default_calendar().deadline_for(NOW, 0)
    member = next(s for s in STAFF if s["staff_id"] == staff_id)
    cases, timers = [], []
    for i in range(1, n + 1):
        case_id = uuid.uuid4()
        due = NOW + MINUTE * (i - 0.5) / n
        breach = i % 2 == 1
        deadline = due if breach else end_of_day
        cases.append((case_id, f"DUE{i:06d}", member["township_id"], "bench-item", SUBJECT, member["department_code"],
                      DEPARTMENTS[member["department_code"]], staff_id, "assigned", deadline, NOW - timedelta(days=3),
                      [CASE_KEY] if breach else [], [member["department_code"]]))
        if breach:
            timers += [(case_id, CASE_KEY, "warning", NOW - timedelta(hours=2), deadline, "case", SUBJECT,
                        NOW - timedelta(hours=2)),
                       (case_id, CASE_KEY, "breach", due, deadline, "case", SUBJECT, None)]
        else:
            timers += [(case_id, CASE_KEY, "warning", due, deadline, "case", SUBJECT, None),
                       (case_id, CASE_KEY, "breach", deadline, deadline, "case", SUBJECT, None)]
    await conn.copy_records_to_table(
        "cases", records=cases, columns=["case_id", "case_no", "township_id", "item_code", "item_name",
                                         "department_code", "department_name", "staff_id", "status",
                                         "promised_deadline", "clock_start", "warned_keys", "path"])
    await conn.copy_records_to_table(
        "deadline_timers", records=timers, columns=["case_id", "deadline_key", "kind", "due_at", "deadline",
                                                    "deadline_kind", "subject", "fired_at"])
    return [c[0] for c in cases]


async def rearm_minute(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> None:
    """The minute's timers unfired and its cases unalerted again, as before the first run."""
    async with conn.transaction():
        await conn.execute("UPDATE deadline_timers SET fired_at = NULL WHERE case_id = ANY($1::uuid[])"
                           " AND due_at >= $2", ids, NOW)
        await conn.execute("UPDATE cases SET breached_at = NULL, breached_keys = '{}',"
                           " warned_keys = CASE WHEN promised_deadline < $2 THEN '{case}'::text[] ELSE '{}' END"
                           " WHERE case_id = ANY($1::uuid[])", ids, NOW + MINUTE)
        await conn.execute("DELETE FROM events WHERE event_type IN ('DeadlineWarning', 'DeadlineBreached')")
    await conn.execute("VACUUM ANALYZE deadline_timers, cases, events")  # as autovacuum would between two waves


# ---------------------------------------------------------------- firing

async def fire_the_minute(pool: asyncpg.Pool, *, interval: float) -> float:
    """The scanner's loop through the minute: at once again while a scan fills up, else after `interval`."""
    clock = SkippingClock(NOW)
    scanner = DeadlineScanner(interval=interval)
    runtime = scan_runtime(pool, clock)
    busy = 0.0
    while True:
        started_at, started = clock.now(), time.perf_counter()
        fired = await scanner.scan_once(runtime)
        busy += time.perf_counter() - started
        if started_at > NOW + MINUTE:  # this scan saw the whole minute due
            return busy
        if fired < scanner.max_per_scan:
            clock.skip_to(clock.now() + timedelta(seconds=interval))


async def fire_the_wave(pools: list[asyncpg.Pool]) -> float:
    """Every timer of the minute due at once, fired by one scanner per pool until none is due."""
    clock = SkippingClock(NOW + MINUTE)

    async def drain(pool: asyncpg.Pool) -> None:
        scanner = DeadlineScanner(interval=0)
        while await scanner.scan_once(scan_runtime(pool, clock)) >= scanner.max_per_scan:
            pass

    started = time.perf_counter()
    await asyncio.gather(*(drain(pool) for pool in pools))
    return time.perf_counter() - started


async def delays_ms(conn: asyncpg.Connection) -> list[float]:
    rows = await conn.fetch("SELECT extract(epoch FROM fired_at - due_at) * 1000 AS ms FROM deadline_timers"
                            " WHERE fired_at IS NOT NULL AND due_at >= $1", NOW)
    return [float(r["ms"]) for r in rows]


async def alerts_appended(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM events WHERE event_type IN ('DeadlineWarning', 'DeadlineBreached')")


class _Explaining:
    """Stands for a connection: runs the query a store function sends under EXPLAIN ANALYZE instead, so
    the plan shown is the scanner's own SQL, whatever it becomes."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.plan: list[str] = []

    async def fetchrow(self, sql: str, *args: Any) -> None:
        rows = await self.conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        self.plan = [r[0] for r in rows]


async def explain_find_next(conn: asyncpg.Connection) -> tuple[list[str], float]:
    """The plan of "the next due timer" with the whole minute due, and the query's median time, client-side."""
    async with rolled_back(conn):  # EXPLAIN ANALYZE takes the row lock: give it back
        explaining = _Explaining(conn)
        await timers_store.lock_next_due_case_timer(cast(asyncpg.Connection, explaining), now=NOW + MINUTE)
    times = []
    for i in range(55):  # the first ones pass asyncpg's statement preparation and PostgreSQL's first plans
        async with rolled_back(conn):
            started = time.perf_counter()
            await timers_store.lock_next_due_case_timer(conn, now=NOW + MINUTE)
            if i >= 5:
                times.append((time.perf_counter() - started) * 1000)
    return key_lines(explaining.plan), statistics.median(times)


@asynccontextmanager
async def rolled_back(conn: asyncpg.Connection) -> AsyncIterator[None]:
    transaction = conn.transaction()
    await transaction.start()
    try:
        yield
    finally:
        await transaction.rollback()


def key_lines(plan: list[str]) -> list[str]:
    """The node that reads deadline_timers, its condition, and the execution time."""
    keep, reading = [], False
    for line in plan:
        if re.search(r"Scan .* on deadline_timers", line):
            keep.append(line.strip())
            reading = True
        elif reading and re.match(r"\s*(Index Cond|Filter|Rows Removed|Buffers)", line):
            keep.append("  " + line.strip())
        else:
            reading = False
        if line.startswith("Execution Time"):
            keep.append(line)
    return keep


# ---------------------------------------------------------------- one size

@dataclass
class Size:
    open_deadlines: int
    fill_seconds: float
    plan: list[str]
    find_ms: float
    firings: list[Firing]


async def run_size(base_dsn: str, open_deadlines: int, due: int, interval: float) -> Size:
    dsn = await fresh_database(base_dsn)
    print(f"\n{open_deadlines:,} open deadlines + {due:,} due in the minute: filling {dsn.rpartition('/')[2]}",
          flush=True)
    pools = [await create_pool(dsn, SCHEMA, min_size=1, max_size=2) for _ in range(2)]
    try:
        await apply_migrations(pools[0], SCHEMA, SERVICE_DIR)
        started = time.perf_counter()
        async with pools[0].acquire() as conn:
            await fill_open(conn, open_deadlines)
            ids = await fill_minute(conn, due, staff_id=STAFF[0]["staff_id"])
            await conn.execute("VACUUM ANALYZE")  # the planner's statistics, as autovacuum keeps them
            fill_seconds = time.perf_counter() - started
            print(f"  filled and analysed in {fill_seconds:.1f} s", flush=True)
            plan, find_ms = await explain_find_next(conn)
        firings = []
        busy = await fire_the_minute(pools[0], interval=interval)
        firings.append(await firing(pools[0], f"minute, scan every {interval:g} s", open_deadlines, busy, delays=True))
        for n in (1, 2):
            async with pools[0].acquire() as conn:
                await rearm_minute(conn, ids)
            busy = await fire_the_wave(pools[:n])
            firings.append(await firing(pools[0], f"all due at once, {n} scn", open_deadlines, busy, delays=False))
        return Size(open_deadlines, fill_seconds, plan, find_ms, firings)
    finally:
        for pool in pools:
            await pool.close()
        await drop_database(base_dsn, dsn)


async def firing(pool: asyncpg.Pool, label: str, open_deadlines: int, busy: float, *, delays: bool) -> Firing:
    async with pool.acquire() as conn:
        fired = await conn.fetchval("SELECT count(*) FROM deadline_timers WHERE fired_at IS NOT NULL AND due_at >= $1",
                                    NOW)
        appended = await alerts_appended(conn)
        if appended != fired:  # every timer of the minute still applies: each must give its one alert
            raise SystemExit(f"{label}: {fired} timers fired but {appended} alerts appended")
        return Firing(label, open_deadlines, fired, busy, await delays_ms(conn) if delays else [])


async def drop_database(base_dsn: str, dsn: str) -> None:
    conn = await asyncpg.connect(base_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}"')
    finally:
        await conn.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    sizes = [int(x) for x in os.environ.get("BENCH_TIMER_OPEN", "10000,1000000").split(",")]
    due = int(os.environ.get("BENCH_TIMER_DUE", "2000"))
    interval = RoutingSettings.model_fields["deadline_scan_seconds"].default
    local.start_postgres()  # PostgreSQL only: timers need no Kafka
    base_dsn = local.database_url()
    results = []
    for n in sizes:
        results.append(asyncio.run(run_size(base_dsn, n, due, interval)))
        print(f"  peak RSS of this process so far: {peak_rss_mb():.0f} MiB", flush=True)
    print(f"\nbench: deadline timers, {due:,} falling due in one minute (half warnings, half breaches)")
    print(f"{'open':>10} {'run':<22} {'fired':>6} {'busy s':>8} {'fired/s':>9} "
          f"{'dly p50':>8} {'dly p99':>8} {'dly max':>8}   (delay past due time, ms)")
    for size in results:
        for f in size.firings:
            print(f.row())
    for size in results:
        print(f"\n{size.open_deadlines:,} open: filled in {size.fill_seconds:.0f} s; find the next due timer "
              f"(the whole minute due): {size.find_ms:.2f} ms median, plan:")
        for line in size.plan:
            print(f"    {line}")
    print(f"\npeak RSS of the bench process (scanner and loader): {peak_rss_mb():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
