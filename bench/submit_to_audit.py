"""Cases per second from HTTP submit to audit-visible: latency percentiles, CPU per case per process, memory.

Starts its own copy of the system (fresh database, own consumer groups, ports 28101..28104) on the local
Kafka and PostgreSQL, then runs paced loads (below capacity: latency) and closed-loop loads (at capacity:
throughput), each closed-loop level for a fixed time. For each closed-loop run it reads the CPU seconds every
service, the Kafka broker and PostgreSQL used (/proc), divided by the cases: the CPU milliseconds one case
costs each, and so the ceiling of the machine (cores × 1000 ms / total ms per case).

Run: make bench   (BENCH_SECONDS=20 per closed-loop level, BENCH_CONCURRENCY=1,8,32 clients,
BENCH_RATES=5,20 paced submissions per second for BENCH_PACED_SECONDS=5 each, BENCH_ROUTING_INSTANCES=1|2:
a second routing process in the same consumer group, BENCH_CORES=2 for the ceiling)
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_cpu import CpuMeter, infra_readers, own_cpu_seconds, rss_mib  # noqa: E402
from bench.results import record  # noqa: E402
from deploy import local  # noqa: E402
from deploy.kafka_passwords import local_env  # noqa: E402
from deploy.samples import case_body  # noqa: E402
from deploy.services import SERVICES, System, build_system  # noqa: E402
from services.kit.token import bearer_header as auth_header  # noqa: E402
from services.kit.topics import start_group_at_end  # noqa: E402

STAFF = auth_header("staff", "qingshui", sub="bench")
INSPECTOR = auth_header("inspector", None, sub="bench")
SETTLED_SECONDS = 1.0  # the audit feed unchanged this long: the run's downstream work is done
RETRY_SECONDS = 0.2  # after a 503; shorter than its Retry-After, so shedding cannot hide behind idle clients


@dataclass
class Run:
    load: str
    cases: int
    wall: float
    http_ms: list[float]
    visible_ms: list[float]
    cpu_s: dict[str, float] = field(default_factory=dict)
    refused: int = 0

    @property
    def rate(self) -> float:
        return self.cases / self.wall

    def row(self) -> str:
        return (f"{self.load:>11} {self.cases:>6} {self.rate:>10.1f} "
                f"{pct(self.http_ms, 50):>8.1f} {pct(self.http_ms, 95):>8.1f} "
                f"{pct(self.visible_ms, 50):>8.1f} {pct(self.visible_ms, 95):>8.1f} {pct(self.visible_ms, 99):>8.1f} "
                f"{max(self.visible_ms):>8.1f} {self.refused:>7}")

    def cpu_ms_per_case(self) -> dict[str, float]:
        return {name: seconds * 1000 / self.cases for name, seconds in self.cpu_s.items()}


def resident(seed: int) -> dict:
    """A sample case with its own mobile number: one number for every case makes notify's per-number
    sending limits hold a growing queue, re-read each round, a cost no township sees."""
    body = case_body(seed)
    body["applicant"]["phone"] = f"139{seed % 100_000_000:08d}"
    return body


def pct(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


class AuditFeed:
    """Follows audit's event feed, noting when each case's CaseSubmitted first shows."""

    def __init__(self, client: httpx.AsyncClient, audit_url: str) -> None:
        self.client, self.url, self.after = client, f"{audit_url}/api/v1/events", 0

    async def poll(self) -> list[dict]:
        resp = await self.client.get(self.url, params={"after_seq": self.after, "limit": 1000}, headers=INSPECTOR)
        resp.raise_for_status()
        rows = resp.json()
        for row in rows:
            self.after = max(self.after, row["seq"])
        return rows

    async def watch(self, pending: dict[str, float], seen: dict[str, float], stop: asyncio.Event) -> None:
        while not stop.is_set() or not pending.keys() <= seen.keys():
            rows = await self.poll()
            now = time.perf_counter()
            for row in rows:
                # Recorded whether or not the HTTP answer is back yet: audit can be that fast.
                if row["event_type"] == "CaseSubmitted":
                    seen.setdefault(row["case_id"], now)
            if len(rows) < 1000:
                await asyncio.sleep(0.02)

    async def settle(self) -> None:
        """Wait until no event has reached audit for SETTLED_SECONDS (routing and notify done with the run)."""
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < SETTLED_SECONDS:
            if await self.poll():
                quiet_since = time.monotonic()
            await asyncio.sleep(0.1)


async def run_load(system: System, *, seed0: int, concurrency: int = 0, seconds: float = 0.0, cases: int = 0,
                   rate: float = 0.0, meter: CpuMeter | None = None) -> Run:
    """Either `concurrency` closed-loop clients for `seconds`, or an open loop of `rate` submissions per second."""
    pending: dict[str, float] = {}
    seen: dict[str, float] = {}
    http_ms: list[float] = []
    refused: list[str] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=max(concurrency, 32) + 4)) as client:
        feed = AuditFeed(client, system["audit"].url)
        await feed.settle()  # start from the end of the feed, the warm-up's stragglers included
        if meter:
            meter.take()
        watcher = asyncio.create_task(feed.watch(pending, seen, stop))
        seeds = itertools.count(seed0)

        async def submit() -> None:
            started, body = time.perf_counter(), resident(next(seeds))
            while True:
                resp = await client.post(f"{system['intake'].url}/api/v1/cases", json=body, headers=STAFF)
                if resp.status_code != 503:
                    break
                # Shed load (OVERLOADED, DATABASE_BUSY): a client comes back; counted, and inside the latency.
                refused.append(resp.json()["code"])
                await asyncio.sleep(RETRY_SECONDS)
            resp.raise_for_status()
            http_ms.append((time.perf_counter() - started) * 1000)
            pending[resp.json()["case_id"]] = started

        t0 = time.perf_counter()

        async def worker() -> None:
            while time.perf_counter() - t0 < seconds:
                await submit()

        if rate:
            tasks = []
            for i in range(cases):
                await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(submit()))
            await asyncio.gather(*tasks)
        else:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        stop.set()
        await asyncio.wait_for(watcher, timeout=300)
        wall = max(seen[c] for c in pending) - t0
        await feed.settle()
        cpu = meter.take() if meter else {}
    load = f"{rate:g}/s" if rate else f"{concurrency} conc"
    return Run(load, len(pending), wall, http_ms, [(seen[c] - pending[c]) * 1000 for c in pending], cpu,
               len(refused))


async def fresh_database(dsn: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return dsn.rpartition("/")[0] + "/" + name


def print_cpu(runs: list[Run], cores: int) -> None:
    names = list(runs[0].cpu_s)
    print(f"\nCPU ms per case (each process's CPU seconds during the run / cases), ceiling = {cores} cores × 1000 ms "
          "/ total of the system (bench client excluded)")
    print(f"{'load':>11} " + " ".join(f"{n:>12}" for n in names) + f" {'system':>8} {'ceiling/s':>10}")
    for run in runs:
        per_case = run.cpu_ms_per_case()
        total = sum(v for n, v in per_case.items() if n != "bench client")
        print(f"{run.load:>11} " + " ".join(f"{per_case[n]:>12.2f}" for n in names)
              + f" {total:>8.2f} {cores * 1000 / total:>10.0f}")


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "20"))
    levels = [int(x) for x in os.environ.get("BENCH_CONCURRENCY", "1,8,32").split(",") if x]
    rates = [float(x) for x in os.environ.get("BENCH_RATES", "5,20").split(",") if x]
    paced_seconds = float(os.environ.get("BENCH_PACED_SECONDS", "5"))
    routing_instances = int(os.environ.get("BENCH_ROUTING_INSTANCES", "1"))
    cores = int(os.environ.get("BENCH_CORES", str(os.cpu_count() or 2)))
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
                                     "BIANMIN_LOG_LEVEL": "WARNING"},
                          instances={"routing": routing_instances})
    system.start()
    try:
        asyncio.run(run_load(system, cases=20, rate=50, seed0=900_000))  # warm-up, not reported
        runs = [asyncio.run(run_load(system, cases=max(1, int(r * paced_seconds)), rate=r,
                                     seed0=int(r * 1000) + 500_000)) for r in rates]
        meter = CpuMeter({**{name: functools.partial(own_cpu_seconds, svc.pid or 0)
                             for name, svc in system.services.items()},
                          **infra_readers(), "bench client": functools.partial(own_cpu_seconds, os.getpid())})
        loaded = [asyncio.run(run_load(system, concurrency=c, seconds=seconds, seed0=c * 1_000_000, meter=meter))
                  for c in levels]
        memory = {name: (rss_mib(svc.pid), rss_mib(svc.pid, peak=True)) for name, svc in system.services.items()}
    finally:
        system.stop()
    print(f"\nbench: HTTP submit -> audit-visible (CaseSubmitted in the audit feed); closed loops run {seconds:g} s each"
          + (f"; {routing_instances} routing processes in one group" if routing_instances > 1 else ""))
    print(f"{'load':>11} {'cases':>6} {'cases/s':>10} {'http p50':>8} {'http p95':>8} "
          f"{'vis p50':>8} {'vis p95':>8} {'vis p99':>8} {'vis max':>8} {'503s':>7}   (ms)")
    for run in runs + loaded:
        print(run.row())
    if loaded:
        print_cpu(loaded, cores)
    print("memory at the end (RSS now / peak, MiB): "
          + ", ".join(f"{n} {now:.0f}/{peak:.0f}" for n, (now, peak) in memory.items()))
    if loaded:
        heaviest = max(loaded, key=lambda r: r.cases / r.wall)
        top = loaded[-1]
        per_case = top.cpu_ms_per_case()
        system_ms = sum(v for n, v in per_case.items() if n != "bench client")
        record("submit_to_audit", clients=int(top.load.split()[0]), routing_instances=routing_instances,
               cases_s=round(top.rate, 1), visible_p50_ms=round(pct(top.visible_ms, 50), 1),
               visible_p99_ms=round(pct(top.visible_ms, 99), 1), http_p95_ms=round(pct(top.http_ms, 95), 1),
               refused_503=top.refused,
               best_cases_s=round(heaviest.rate, 1), best_clients=heaviest.load,
               cpu_ms_per_case={n: round(v, 2) for n, v in per_case.items()},
               system_cpu_ms_per_case=round(system_ms, 2), cores=cores,
               ceiling_cases_s=round(cores * 1000 / system_ms, 1),
               rss_mib={n: round(now, 1) for n, (now, _) in memory.items()},
               peak_rss_mib={n: round(peak, 1) for n, (_, peak) in memory.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
