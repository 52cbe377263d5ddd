"""SMS through the real provider adapters: messages per second from the event to the provider's stand-in.

A fresh notify database (PostgreSQL only) takes BENCH_SMS_MESSAGES CaseSubmitted events through notify's
own handler (commands.on_contact + on_case_submitted: the case, the number, the rendered message, its
template parameters, queued); then the real sender (sender.send_due, BENCH_SMS_SENDERS concurrent senders,
batches of 10) hands every message to the Alibaba or the Tencent adapter, which signs each request; the
local stand-in checks every signature and answers as the provider does. Kafka is not in the path (its
cost is measured by bench.submit_to_audit); the provider's network round trip is, on loopback.
Run: make bench   (BENCH_SMS_MESSAGES=500, BENCH_SMS_SENDERS=1,2)
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.submit_to_audit import fresh_database  # noqa: E402
from deploy import local  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402
from services.kit.testing import FixedClock  # noqa: E402
from services.notify import commands, sender  # noqa: E402
from services.notify.domain import SendPolicy  # noqa: E402
from services.notify.providers.alibaba import AlibabaSms  # noqa: E402
from services.notify.providers.config import ProviderSettings, ProviderTemplate  # noqa: E402
from services.notify.providers.tencent import TencentSms  # noqa: E402
from services.notify.send_rules import NO_RULES  # noqa: E402
from services.notify.tests import sms_standin  # noqa: E402

# The test suite's event builders, which mypy does not check (tests are excluded), read at run time.
builders = importlib.import_module("services.notify.tests.builders")
SCHEMA = "notify"
TEMPLATE = {"case_submitted": ProviderTemplate(template="SMS_100001", params=("applicant_name", "case_no", "deadline"))}


async def queue(pool, n: int, now: datetime) -> float:
    events = [builders.submitted(phone=builders.unique_phone()) for _ in range(n)]
    started = time.perf_counter()
    for event in events:
        async with pool.acquire() as conn, conn.transaction():
            await commands.on_contact(conn, event.case_id, builders.contact_of(event), now=now, max_age=timedelta(days=2))
            await commands.on_case_submitted(conn, event, now=now, max_age=timedelta(days=2))
    return time.perf_counter() - started


async def run(provider_name: str, senders: int, n: int, dsn: str) -> str:
    standin = sms_standin.SmsStandIn()
    now = datetime.now(UTC)
    clock = FixedClock(now)
    pool = await create_pool(dsn, SCHEMA, min_size=1, max_size=senders + 2)
    try:
        await apply_migrations(pool, SCHEMA, ROOT / "services" / "notify")
        queued_in = await queue(pool, n, now)
        async with sms_standin.serving(standin) as base, httpx.AsyncClient(timeout=5) as client:
            settings = ProviderSettings(
                alibaba_endpoint=f"{base}/alibaba", alibaba_access_key_id=sms_standin.ALIBABA_KEY_ID,
                alibaba_access_key_secret=SecretStr(sms_standin.ALIBABA_SECRET), alibaba_sign_name="清水镇便民服务中心",
                tencent_endpoint=f"{base}/tencent", tencent_secret_id=sms_standin.TENCENT_SECRET_ID,
                tencent_secret_key=SecretStr(sms_standin.TENCENT_SECRET_KEY), tencent_sdk_app_id="1400000001",
                tencent_sign_name="清水镇便民服务中心")
            adapter = (AlibabaSms if provider_name == "alibaba" else TencentSms)(settings, TEMPLATE, client, clock)
            started = time.perf_counter()
            while sum(await asyncio.gather(*(sender.send_due(pool, clock, provider=adapter, policy=SendPolicy(),
                                                             rules=NO_RULES, batch=10, timeout=5)
                                             for _ in range(senders)))):
                pass
            elapsed = time.perf_counter() - started
        async with pool.acquire() as conn:
            sent = await conn.fetchval("SELECT count(*) FROM messages WHERE status = 'sent'")
        assert sent == n == len(standin.taken) and standin.bad_signatures == 0, (sent, len(standin.taken))
        await pool.execute("TRUNCATE messages CASCADE")
        return (f"{provider_name:<8} {senders:>7} {n:>8} {queued_in / n * 1000:>10.2f} {elapsed:>8.2f} "
                f"{n / elapsed:>10.0f}")
    finally:
        await pool.close()


def main() -> int:
    n = int(os.environ.get("BENCH_SMS_MESSAGES", "500"))
    levels = [int(x) for x in os.environ.get("BENCH_SMS_SENDERS", "1,2").split(",")]
    infra = local.ensure_infra()
    print(f"{'provider':<8} {'senders':>7} {'messages':>8} {'queue ms':>10} {'send s':>8} {'msg/s':>10}")
    for provider_name in ("alibaba", "tencent"):
        for senders in levels:
            dsn = asyncio.run(fresh_database(infra.database_url))
            print(asyncio.run(run(provider_name, senders, n, dsn)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
