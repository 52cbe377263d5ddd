"""Case 3: PostgreSQL crashes (pg_ctl stop -m immediate) or turns read-only (as during a failover)
mid-load. Requests may fail meanwhile, but only with a JSON 503 within the bound; nothing that was
merely unavailable is dead-lettered, and no event is skipped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

import asyncpg
import pytest

from tests.faults.load import Answer, Load
from tests.faults.verdict import baseline, judge

pytestmark = pytest.mark.fault


def not_a_json_503(answers: list[Answer]) -> list[Answer]:
    """Answers that are neither an acceptance nor a JSON 503 (a 500, a bare 503, no answer in time)."""
    return [a for a in answers if a.status != 201 and not (a.status == 503 and a.json_error)]


async def _outage_verdict(name: str, system, fault_infra, load: Load, since, window: tuple[float, float]):
    during = load.between(*window)
    wrong = not_a_json_503(load.answers)
    verdict = await judge(name, load.case_ids, audit_url=system["audit"].url, kafka=fault_infra.kafka_bootstrap,
                          since=since, extra={"refused_503": sum(a.status == 503 for a in load.answers),
                                              "other_failures": len(wrong), "attempts_during": len(during)})
    assert not wrong and not verdict.problems, (
        f"{verdict.line()}\n{len(wrong)} answers were not 201 or a JSON 503, e.g. {wrong[:3]}\n"
        + "\n".join(verdict.problems[:10]))


async def test_postgres_crash_mid_load(system, fault_infra):
    since = await baseline(system["audit"].url, fault_infra.kafka_bootstrap)
    load = Load(system["intake"].url, target=40).start()
    await load.reached(10)
    began = time.monotonic()
    await asyncio.to_thread(fault_infra.crash_postgres)
    try:
        with contextlib.suppress(AssertionError):
            await load.attempts_after(began, 12)
    finally:
        ended = time.monotonic()
        await asyncio.to_thread(fault_infra.start_postgres)
    await load.finish()
    await _outage_verdict("postgres-crash", system, fault_infra, load, since, (began, ended))


async def _set_read_only(dsn: str, on: bool) -> None:
    # The session itself stays writable, or it could not switch the server back.
    conn = await asyncpg.connect(dsn, server_settings={"default_transaction_read_only": "off"})
    try:
        if on:
            await conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        else:
            await conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


@contextlib.contextmanager
def paused(system, names: tuple[str, ...]):
    """SIGSTOP, so events pile up on Kafka for these consumers; SIGCONT on leaving."""
    for name in names:
        os.kill(system[name].pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for name in names:
            os.kill(system[name].pid, signal.SIGCONT)


async def test_postgres_read_only_for_a_while_mid_load(system, fault_infra):
    since = await baseline(system["audit"].url, fault_infra.kafka_bootstrap)
    load = Load(system["intake"].url, target=40).start()
    await load.reached(5)
    consumers = ("routing", "notify", "audit")
    with paused(system, consumers):
        await load.reached(15)  # a backlog the consumers will meet read-only
        began = time.monotonic()
        await _set_read_only(fault_infra.database_url, True)
    try:
        # Long enough for consumers to exhaust a bounded retry of non-transient errors (~3 s).
        with contextlib.suppress(AssertionError):
            await load.attempts_after(began, 20)
    finally:
        ended = time.monotonic()
        await _set_read_only(fault_infra.database_url, False)
    await load.finish()
    refused = [a for a in load.between(began, ended) if a.status != 201]
    assert refused, "the server never refused a write: was it read-only at all?"
    await _outage_verdict("postgres-read-only", system, fault_infra, load, since, (began, ended))
