"""Case 4: two instances of routing and of notify in one consumer group each; one of each is
killed mid-load. The survivors take over the partitions (and the relay), and each case is still
assigned exactly once and its resident told exactly once."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.kit.kafka_security import kafka_client_options
from services.kit.testing import eventually
from tests.faults.conftest import fault_system
from tests.faults.load import Load, staff
from tests.faults.verdict import baseline, judge

pytestmark = pytest.mark.fault
SCALED = ("routing", "notify")


async def _members(kafka: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka, **kafka_client_options())
    await admin.start()
    try:
        [described] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    # DescribeGroups response: (error_code, group_id, state, protocol_type, protocol, members, ...)
    return sum(len(g[5]) for g in described.groups if g[1] == group)


async def _healthy(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2) as client:
        try:
            return (await client.get(f"{url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False


async def _resident_sms(notify_url: str, case: dict) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.get(f"{notify_url}/api/v1/messages", params={"case_id": case["case_id"]},
                                headers=staff(case["township_id"]))
    resp.raise_for_status()
    return sum(m["recipient_kind"] == "resident" for m in resp.json())


async def test_one_of_two_consumer_instances_killed_mid_load(system, fault_infra):
    seconds = fault_system(fault_infra, system["intake"].env["DATABASE_URL"], "second", group="faults",
                           port_shift=10)
    twins = {name: seconds[name] for name in SCALED}
    for twin in twins.values():
        await asyncio.to_thread(twin.start)
    try:
        for name, twin in twins.items():
            await eventually(lambda t=twin: _healthy(t.url), timeout=90, what=f"second {name} up")
            await eventually(lambda n=name: _two(fault_infra.kafka_bootstrap, f"bianmin-{n}-faults"), timeout=90,
                             what=f"two members in bianmin-{name}-faults")
        since = await baseline(system["audit"].url, fault_infra.kafka_bootstrap)
        load = Load(system["intake"].url, target=40).start()
        await load.reached(12)
        for name in SCALED:
            system[name].kill()  # the first instance: it also holds the relay's lock
        await load.finish()

        # notify's own record (the audit verdict below checks NotificationSent): one SMS per case,
        # once the survivor has caught up, so waited for.
        async def all_told():
            counts = [await _resident_sms(twins["notify"].url, case) for case in load.accepted]
            return counts if all(n >= 1 for n in counts) else None

        with contextlib.suppress(AssertionError):
            await eventually(all_told, timeout=75, interval=0.5, what="a resident SMS for every case")
        sms = [await _resident_sms(twins["notify"].url, case) for case in load.accepted]
        wrong_sms = [(c["case_id"], n) for c, n in zip(load.accepted, sms, strict=True) if n != 1]
        sms_not_once = len(wrong_sms)

        verdict = await judge("rebalance", load.case_ids, audit_url=system["audit"].url,
                              kafka=fault_infra.kafka_bootstrap, since=since, extra={"sms_not_once": sms_not_once})
        verdict.assert_clean()
        assert not wrong_sms, f"resident SMS not exactly once: {wrong_sms[:5]}"
    finally:
        for name, twin in twins.items():
            await asyncio.to_thread(twin.stop)
            if not system[name].alive():  # the shared system goes on with its first instances
                await asyncio.to_thread(system[name].start)
                await asyncio.to_thread(system[name].wait_ready)


async def _two(kafka: str, group: str) -> bool:
    return await _members(kafka, group) >= 2
