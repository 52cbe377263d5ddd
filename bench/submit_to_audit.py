"""Cases per second from HTTP submit to audit-visible, with latency percentiles and memory.

Starts its own copy of the system (fresh database, own consumer groups, ports 28101..28104)
on the local Kafka and PostgreSQL, then runs paced loads (below capacity: latency) and closed-loop loads (at
capacity: throughput) side by side. Run: make bench   (BENCH_CASES=…, BENCH_RATES=5,10 paced submissions per second,
BENCH_CONCURRENCY=1,8 closed-loop clients)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy import local  # noqa: E402
from deploy.kafka_passwords import local_env  # noqa: E402
from deploy.samples import case_body  # noqa: E402
from deploy.services import SERVICES, build_system  # noqa: E402
from services.kit.token import bearer_header as auth_header  # noqa: E402
from services.kit.topics import start_group_at_end  # noqa: E402

STAFF = auth_header("staff", "qingshui", sub="bench")
INSPECTOR = auth_header("inspector", None, sub="bench")


@dataclass
class Run:
    load: str
    cases: int
    wall: float
    http_ms: list[float]
    visible_ms: list[float]

    def row(self) -> str:
        return (f"{self.load:>11} {self.cases:>6} {self.cases / self.wall:>10.1f} "
                f"{pct(self.http_ms, 50):>8.1f} {pct(self.http_ms, 95):>8.1f} "
                f"{pct(self.visible_ms, 50):>8.1f} {pct(self.visible_ms, 95):>8.1f} {pct(self.visible_ms, 99):>8.1f} "
                f"{max(self.visible_ms):>8.1f}")


def pct(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def watch_audit(client: httpx.AsyncClient, audit_url: str, pending: dict[str, float], seen: dict[str, float],
                      stop: asyncio.Event) -> None:
    after = 0
    while not stop.is_set() or not pending.keys() <= seen.keys():
        resp = await client.get(f"{audit_url}/api/v1/events", params={"after_seq": after, "limit": 1000}, headers=INSPECTOR)
        resp.raise_for_status()
        rows = resp.json()
        now = time.perf_counter()
        for row in rows:
            after = max(after, row["seq"])
            # Recorded whether or not the HTTP answer is back yet: audit can be that fast.
            if row["event_type"] == "CaseSubmitted":
                seen.setdefault(row["case_id"], now)
        if not rows:
            await asyncio.sleep(0.02)


async def run_load(system, *, cases: int, seed0: int, concurrency: int = 0, rate: float = 0.0) -> Run:
    """Either `concurrency` closed-loop clients, or an open loop of `rate` submissions per second."""
    pending: dict[str, float] = {}
    seen: dict[str, float] = {}
    http_ms: list[float] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=max(concurrency, 32) + 4)) as client:
        watcher = asyncio.create_task(watch_audit(client, system["audit"].url, pending, seen, stop))

        async def submit(i: int) -> None:
            started = time.perf_counter()
            resp = await client.post(f"{system['intake'].url}/api/v1/cases", json=case_body(seed0 + i), headers=STAFF)
            resp.raise_for_status()
            http_ms.append((time.perf_counter() - started) * 1000)
            pending[resp.json()["case_id"]] = started

        queue = iter(range(cases))

        async def worker() -> None:
            for i in queue:
                await submit(i)

        t0 = time.perf_counter()
        if rate:
            tasks = []
            for i in range(cases):
                await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(submit(i)))
            await asyncio.gather(*tasks)
        else:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        stop.set()
        await asyncio.wait_for(watcher, timeout=300)
        wall = max(seen[c] for c in pending) - t0
    load = f"{rate:g}/s" if rate else f"{concurrency} conc"
    return Run(load, cases, wall, http_ms, [(seen[c] - pending[c]) * 1000 for c in pending])


def rss_mb(pid: int | None) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def fresh_database(dsn: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return dsn.rpartition("/")[0] + "/" + name


def main() -> int:
    cases = int(os.environ.get("BENCH_CASES", "300"))
    levels = [int(x) for x in os.environ.get("BENCH_CONCURRENCY", "1,8").split(",")]
    rates = [float(x) for x in os.environ.get("BENCH_RATES", "5,10").split(",") if x]
    infra = local.ensure_infra()
    os.environ.update(infra.kafka_admin_env)  # the bench's own clients connect as admin, the services as themselves
    database_url = asyncio.run(fresh_database(infra.database_url))
    work = ROOT / ".local" / "bench"
    suffix = f"-bench-{uuid.uuid4().hex[:6]}"
    for name in SERVICES:
        asyncio.run(start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}"))
    system = build_system(kafka=infra.kafka_bootstrap, database_url=database_url, port_offset=20000,
                          kafka_user_env=local_env if infra.kafka_admin_env else None,
                          log_dir=work / "logs", run_dir=work / "run",
                          extra_env={"BIANMIN_CONSUMER_GROUP_SUFFIX": suffix,
                                     "BIANMIN_LOG_LEVEL": "WARNING"})
    system.start()
    try:
        asyncio.run(run_load(system, cases=20, concurrency=4, seed0=900_000))  # warm-up, not reported
        runs = [asyncio.run(run_load(system, cases=cases, rate=r, seed0=int(r * 1000) + 500_000)) for r in rates]
        runs += [asyncio.run(run_load(system, cases=cases, concurrency=c, seed0=c * 10_000)) for c in levels]
        memory = {name: rss_mb(svc.pid) for name, svc in system.services.items()}
    finally:
        system.stop()
    print(f"\nbench: HTTP submit -> audit-visible (CaseSubmitted in the audit feed), {cases} cases per run")
    print(f"{'load':>11} {'cases':>6} {'cases/s':>10} {'http p50':>8} {'http p95':>8} "
          f"{'vis p50':>8} {'vis p95':>8} {'vis p99':>8} {'vis max':>8}   (ms)")
    for run in runs:
        print(run.row())
    print("memory after the runs (RSS, MiB): " + ", ".join(f"{n} {m:.0f}" for n, m in memory.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
