"""SMS per second from an event on Kafka to the provider's hand, with latency percentiles event -> sent.

Starts notify alone (its own process, fresh database, own consumer group, port 28103 unless
BENCH_PORT_OFFSET says otherwise) on the local Kafka and PostgreSQL, twice, side by side: with the
development provider, and with the Alibaba adapter against the local stand-in (signed HTTP calls,
signatures checked), so the whole path from event to a provider's HTTP API is measured.
Each case is a CaseSubmitted on intake's case topic and its contact record, one number per case, so
the per-number limits are counted and never reached; quiet hours and the merge window are set to
nothing so the figures do not depend on the hour (the rules' queries still run on every message).
Latency is from the moment the bench hands the event to Kafka to the `sent_at` notify records once
the provider took the SMS; notify polls every NOTIFY_SEND_INTERVAL (default 0.5 s).
Paced runs (below capacity: latency) and a burst (all at once: throughput).
Run: make bench   (BENCH_SMS=500 cases per run, BENCH_SMS_RATES=20,50 paced events per second)
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_cpu import rss_mib  # noqa: E402
from bench.submit_to_audit import fresh_database, pct  # noqa: E402
from contracts.contacts import CaseContact  # noqa: E402
from contracts.envelope import Actor, new_event_id  # noqa: E402
from contracts.events import CaseSubmitted, CaseSubmittedPayload  # noqa: E402
from contracts.topics import INTAKE_CONTACTS  # noqa: E402
from deploy import local  # noqa: E402
from deploy.kafka_passwords import local_env  # noqa: E402
from deploy.services import build_system  # noqa: E402
from services.kit.kafka_security import kafka_client_options  # noqa: E402
from services.kit.topics import start_group_at_end  # noqa: E402
from services.notify.tests import sms_standin  # noqa: E402

# The rules stay on; only what depends on the hour or holds every message is set to nothing.
NEXT = 0  # numbers and case numbers are unique across the runs of one bench
RULES_FOR_THE_BENCH = {"NOTIFY_MERGE_WINDOW_SECONDS": "0", "NOTIFY_QUIET_START": "00:00", "NOTIFY_QUIET_END": "00:00"}
PROVIDER_TEMPLATES = "alibaba:\n  case_submitted: {template: SMS_100001, params: [applicant_name, case_no, deadline]}\n"


def standin_in_thread() -> tuple[str, Callable[[], None]]:
    """The providers' stand-in on a local port, served from a thread of its own for the whole bench."""
    ready, stop, box = threading.Event(), threading.Event(), {}

    async def serve() -> None:
        async with sms_standin.serving(sms_standin.SmsStandIn()) as base:
            box["base"] = base
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.1)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(30):
        raise SystemExit("the SMS stand-in did not start")

    def close() -> None:
        stop.set()
        thread.join(10)
    return box["base"], close


def alibaba_env(base: str, work: Path) -> dict[str, str]:
    templates = work / "provider-templates.yaml"
    templates.parent.mkdir(parents=True, exist_ok=True)
    templates.write_text(PROVIDER_TEMPLATES, encoding="utf-8")
    return {"NOTIFY_SMS_PROVIDER": "alibaba", "NOTIFY_ALIBABA_ENDPOINT": f"{base}/alibaba",
            "NOTIFY_ALIBABA_ACCESS_KEY_ID": sms_standin.ALIBABA_KEY_ID,
            "NOTIFY_ALIBABA_ACCESS_KEY_SECRET": sms_standin.ALIBABA_SECRET,
            "NOTIFY_ALIBABA_SIGN_NAME": "清水镇便民服务中心", "NOTIFY_SMS_TEMPLATES_FILE": str(templates)}


def submission(i: int) -> tuple[CaseSubmitted, CaseContact]:
    """A case as intake publishes it: the event and, on the contact topic, the applicant's number."""
    case_id, now = new_event_id(), datetime.now(UTC)
    payload = CaseSubmittedPayload(
        case_no=f"QS-20261124-{i:05d}", item_code="SB-002", item_name="城乡居民养老保险待遇申领", kind="promised",
        department_code="social_security", channel="window", applicant_name="张三",
        applicant_id_masked="1101**********002X", materials_provided=["id_card"], promised_limit_days=10,
        promised_deadline=now + timedelta(days=14))
    event = CaseSubmitted(event_id=new_event_id(), schema_version="1.0", occurred_at=now, source="intake",
                          case_id=case_id, stream_version=1, township_id="qingshui",
                          actor=Actor(kind="staff", id="bench"), correlation_id=case_id, payload=payload)
    contact = CaseContact(case_id=case_id, township_id="qingshui", version=1, recorded_at=now,
                          applicant_phone=f"+86137{i:08d}")
    return event, contact


@dataclass
class Run:
    load: str
    sms: int
    wall: float
    latency_ms: list[float]

    def row(self) -> str:
        return (f"{self.load:>9} {self.sms:>6} {self.sms / self.wall:>8.1f} {pct(self.latency_ms, 50):>8.1f} "
                f"{pct(self.latency_ms, 95):>8.1f} {pct(self.latency_ms, 99):>8.1f} {max(self.latency_ms):>8.1f}")


async def run_load(bootstrap: str, database_url: str, *, cases: int, rate: float = 0.0) -> Run:
    """Publishes `cases` submissions (paced at `rate` per second, or all at once) and waits for every SMS."""
    from aiokafka import AIOKafkaProducer

    global NEXT
    cases_and_contacts = [submission(NEXT + i) for i in range(cases)]
    NEXT += cases
    handed: dict[uuid.UUID, datetime] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_client_options(), acks="all",
                                enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        t0 = time.perf_counter()
        pending = []
        for i, (event, contact) in enumerate(cases_and_contacts):
            if rate:
                await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            handed[event.case_id] = datetime.now(UTC)
            key = str(event.case_id).encode()
            pending.append(await producer.send(CaseSubmitted.TOPIC, event.to_json_bytes(), key=key,
                                               headers=[(k, v.encode()) for k, v in event.kafka_headers().items()]))
            pending.append(await producer.send(INTAKE_CONTACTS, contact.to_json_bytes(), key=key))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    sent = await wait_sent(database_url, list(handed), timeout=120 + cases / 5)
    start = min(handed.values())
    wall = (max(sent.values()) - start).total_seconds()
    latency = [(sent[c] - handed[c]).total_seconds() * 1000 for c in handed]
    return Run(f"{rate:g}/s" if rate else "burst", cases, wall, latency)


async def wait_sent(database_url: str, case_ids: list[uuid.UUID], *, timeout: float) -> dict[uuid.UUID, datetime]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "notify"})  # each service its schema
    try:
        deadline = time.monotonic() + timeout
        while True:
            rows = await conn.fetch("SELECT case_id, sent_at FROM messages WHERE case_id = ANY($1)"
                                    " AND status IN ('sent', 'delivered')", case_ids)
            if len(rows) == len(case_ids):
                return {r["case_id"]: r["sent_at"] for r in rows}
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(rows)} of {len(case_ids)} SMS sent after {timeout:.0f} s")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


def bench_provider(infra, work: Path, *, cases: int, rates: list[float], extra_env: dict[str, str]) -> list[Run]:
    """Notify alone with this provider, on a fresh database: a warm-up, the paced runs, then a burst."""
    database_url = asyncio.run(fresh_database(infra.database_url))
    suffix = f"-bench-{uuid.uuid4().hex[:6]}"
    asyncio.run(start_group_at_end(infra.kafka_bootstrap, f"bianmin-notify{suffix}"))
    system = build_system(kafka=infra.kafka_bootstrap, database_url=database_url,
                          port_offset=int(os.environ.get("BENCH_PORT_OFFSET", "20000")),
                          kafka_user_env=local_env if infra.kafka_admin_env else None,
                          log_dir=work / "logs", run_dir=work / "run",
                          extra_env={"BIANMIN_CONSUMER_GROUP_SUFFIX": suffix, "BIANMIN_LOG_LEVEL": "WARNING",
                                     **RULES_FOR_THE_BENCH, **extra_env})
    system.start(["notify"])
    try:
        asyncio.run(run_load(infra.kafka_bootstrap, database_url, cases=20, rate=50))  # warm-up, not reported
        runs = [asyncio.run(run_load(infra.kafka_bootstrap, database_url, cases=cases, rate=r)) for r in rates]
        runs.append(asyncio.run(run_load(infra.kafka_bootstrap, database_url, cases=cases)))
        MEMORY[extra_env.get("NOTIFY_SMS_PROVIDER", "dev")] = rss_mib(system["notify"].pid)
    finally:
        system.stop()
    return runs


MEMORY: dict[str, float] = {}


def main() -> int:
    cases = int(os.environ.get("BENCH_SMS", "500"))
    rates = [float(x) for x in os.environ.get("BENCH_SMS_RATES", "20,50").split(",") if x]
    infra = local.ensure_infra()
    os.environ.update(infra.kafka_admin_env)  # the bench publishes as admin, notify connects as itself
    work = ROOT / ".local" / "bench-notify"
    base, close = standin_in_thread()
    try:
        results = {"dev": bench_provider(infra, work, cases=cases, rates=rates, extra_env={}),
                   "alibaba (stand-in)": bench_provider(infra, work, cases=cases, rates=rates,
                                                        extra_env=alibaba_env(base, work))}
    finally:
        close()
    print(f"\nbench: event on Kafka -> SMS handed to the provider, {cases} cases per run, one number each")
    print(f"{'provider':<19} {'load':>9} {'sms':>6} {'sms/s':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
          "   (ms, event -> sent)")
    for provider, runs in results.items():
        for run in runs:
            print(f"{provider:<19} {run.row()}")
    print("notify memory after the runs (RSS): " + ", ".join(f"{p} {m:.0f} MiB" for p, m in MEMORY.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
