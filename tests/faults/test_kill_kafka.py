"""Case 2: kill -9 of the Kafka broker mid-load, restarted on the same data directory.

Intake keeps taking cases in while the broker is down (its outbox holds the events) and the
relays catch up once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from tests.faults.load import Load
from tests.faults.verdict import baseline, judge

pytestmark = pytest.mark.fault


async def test_kill_9_of_the_broker_mid_load_then_the_outbox_catches_up(system, fault_infra):
    audit_url = system["audit"].url
    since = await baseline(audit_url, fault_infra.kafka_bootstrap)
    load = Load(system["intake"].url, target=60).start()
    await load.reached(15)
    fault_infra.kill_kafka()
    down_from = time.monotonic()
    try:
        with contextlib.suppress(AssertionError):  # judged below, from the answers
            await load.reached(35)  # accepted while the broker is down
    finally:
        down_until = time.monotonic()
        await asyncio.to_thread(fault_infra.start_kafka)
    await load.finish()

    during = load.between(down_from, down_until)
    refused = [a for a in during if a.status != 201]
    verdict = await judge("kill-kafka", load.case_ids, audit_url=audit_url, kafka=fault_infra.kafka_bootstrap,
                          since=since, extra={"accepted_while_down": len(during) - len(refused),
                                              "refused_while_down": len(refused)})
    assert not refused, f"intake refused {len(refused)} submissions while Kafka was down: {refused[:3]}"
    verdict.assert_clean()
