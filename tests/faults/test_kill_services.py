"""Case 1: kill -9 of each service in turn, mid-load, restarted on the same database."""

from __future__ import annotations

import pytest

from tests.faults.conftest import restart
from tests.faults.load import Load
from tests.faults.verdict import baseline, judge

pytestmark = pytest.mark.fault


@pytest.mark.parametrize("service", ["intake", "routing", "notify", "audit"])
async def test_kill_9_of_a_service_mid_load_loses_and_duplicates_nothing(system, fault_infra, service):
    audit_url = system["audit"].url
    since = await baseline(audit_url, fault_infra.kafka_bootstrap)
    load = Load(system["intake"].url, target=30).start()
    await load.reached(10)
    await restart(system[service])
    await load.finish()

    verdict = await judge(f"kill-{service}", load.case_ids, audit_url=audit_url, kafka=fault_infra.kafka_bootstrap,
                          since=since)
    assert verdict.accepted == 30, f"load ended with {verdict.accepted} accepted of 30"
    verdict.assert_clean()
