"""Case 6: a superuser gets past the append-only triggers. A changed middle record is caught by
/api/v1/integrity; a deleted tail is caught against a signed checkpoint held from Kafka (by the
integrity check with that checkpoint and by the inspectors' verify CLI).

Runs on its own database and services: it leaves a broken chain behind."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from cryptography.hazmat.primitives import serialization

from contracts.events import AuditCheckpointed, parse_event
from deploy.kafka_acls import INSPECTOR_USER
from deploy.kafka_passwords import local_env
from deploy.services import SERVICES
from services.audit import checkpoints
from services.kit.kafka_security import kafka_client_options
from services.kit.testing import eventually, start_group_at_end
from tests.faults.conftest import create_database, fault_system, stop_other_systems
from tests.faults.infra import ROOT
from tests.faults.load import Load
from tests.faults.verdict import INSPECTOR, RECORDED, REPORT, baseline, judge

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
async def tamper_system(fault_infra):
    await stop_other_systems()  # it runs last; the shared system would consume its cases too
    for name in SERVICES:  # only this case's traffic, not the history the other cases left on the broker
        await start_group_at_end(fault_infra.kafka_bootstrap, f"bianmin-{name}-tamper")
    sys_ = fault_system(fault_infra, await create_database(fault_infra, "tamper"), "tamper", group="tamper",
                        port_shift=20, extra_env={"AUDIT_CHECKPOINT_SECONDS": "1"})
    await asyncio.to_thread(sys_.start)
    yield sys_
    await asyncio.to_thread(sys_.stop)


@asynccontextmanager
async def superuser(dsn: str):
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        yield conn
    finally:
        await conn.close()


async def _integrity(audit_url: str, **params) -> dict:
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.get(f"{audit_url}/api/v1/integrity", params=params, headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _signed_checkpoint_covering(kafka: str, public_key, seq: int) -> AuditCheckpointed:
    """The first checkpoint on Kafka, signed with the pinned key, whose head is at or past `seq`."""
    consumer = AIOKafkaConsumer(AuditCheckpointed.TOPIC, bootstrap_servers=kafka, **kafka_client_options(), group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        async def probe():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = parse_event(record.value)
                    if checkpoints.signature_fault(event, public_key) is None and event.payload.head_seq >= seq:
                        return event
            return None
        return await eventually(probe, timeout=60, what=f"a signed checkpoint at or past seq {seq}")
    finally:
        await consumer.stop()


async def _verify_cli(kafka: str, audit_url: str, public_pem) -> tuple[int, str]:
    token = INSPECTOR["Authorization"].removeprefix("Bearer ")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.audit.verify", "--bootstrap-servers", kafka, "--audit-url", audit_url,
        "--public-key", str(public_pem), "--token", token, "--timeout", "30", cwd=ROOT,
        env={**os.environ, **local_env(INSPECTOR_USER)},  # as inspectors run it: their Kafka user's ACLs suffice
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(errors="replace")


async def test_changed_record_and_deleted_tail_are_caught(tamper_system, fault_infra):
    audit = tamper_system["audit"]
    kafka, dsn = fault_infra.kafka_bootstrap, audit.env["DATABASE_URL"]
    key_file = audit.env["AUDIT_SIGNING_KEY_FILE"]
    public_key = serialization.load_pem_private_key(Path(key_file).read_bytes(), None).public_key()
    public_pem = REPORT.parent / "faults" / "services" / "tamper" / "audit-public.pem"
    public_pem.write_text(checkpoints.public_pem(public_key))

    since = await baseline(audit.url, kafka)
    load = Load(tamper_system["intake"].url, target=30).start()
    await load.finish()
    verdict = await judge("tampering-baseline", load.case_ids, audit_url=audit.url, kafka=kafka, since=since)
    verdict.assert_clean()

    async with httpx.AsyncClient(timeout=30) as client:
        feed = (await client.get(f"{audit.url}/api/v1/events", params={"after_seq": since.audit_seq, "limit": 1000},
                                 headers=INSPECTOR)).json()
    ours = [r for r in feed if r["case_id"] in set(load.case_ids)]
    held = (await _signed_checkpoint_covering(kafka, public_key, max(r["seq"] for r in ours))).payload
    check = await _integrity(audit.url, checkpoint_seq=held.head_seq, checkpoint_hash=held.head_hash)
    assert check["valid"] and check["checkpoint"]["matches"], check
    code, out = await _verify_cli(kafka, audit.url, public_pem)
    assert code == 0, f"verify before tampering: exit {code}\n{out}"

    # 1. A record in the middle changed, triggers disabled: the chain names it.
    submitted = [r for r in ours if r["event_type"] == "CaseSubmitted"]
    target = submitted[len(submitted) // 2]
    async with superuser(dsn) as conn:
        original = await conn.fetchval("SELECT envelope FROM audit_log WHERE seq = $1", target["seq"])
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        forged = original.replace('"channel":"window"', '"channel":"village_agent"', 1)
        assert forged != original
        await conn.execute("UPDATE audit_log SET envelope = $2 WHERE seq = $1", target["seq"], forged)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    changed = await _integrity(audit.url)
    async with superuser(dsn) as conn:  # put it back, so the tail deletion is judged on its own
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE audit_log SET envelope = $2 WHERE seq = $1", target["seq"], original)
    restored = await _integrity(audit.url)

    # 2. The tail deleted, triggers skipped: the chain that is left is whole, the held checkpoint is not.
    async with superuser(dsn) as conn:
        await conn.execute("SET session_replication_role = replica")
        deleted = await conn.fetchval("WITH d AS (DELETE FROM audit_log WHERE seq > $1 RETURNING 1)"
                                      " SELECT count(*) FROM d", max(held.head_seq - 5, 1))
    chain_only = await _integrity(audit.url)
    against = await _integrity(audit.url, checkpoint_seq=held.head_seq, checkpoint_hash=held.head_hash)
    code_after, out_after = await _verify_cli(kafka, audit.url, public_pem)

    expected_break = {"seq": target["seq"], "event_id": target["event_id"], "reason": "hash_mismatch"}
    line = (f"fault=tampering changed_caught={changed['first_bad'] == expected_break} "
            f"tail_deleted={deleted} tail_caught={against['valid'] is False} verify_exit={code_after}")
    RECORDED.append(line)
    with REPORT.open("a") as fh:
        fh.write(line + "\n")

    assert changed["valid"] is False, changed
    assert changed["first_bad"] == {"seq": target["seq"], "event_id": target["event_id"], "reason": "hash_mismatch"}
    assert restored["valid"] is True, restored
    assert deleted >= 5
    assert chain_only["valid"] is True, "a deleted tail leaves a chain that verifies on its own"
    assert against["valid"] is False and against["checkpoint"]["problem"] == "tail_deleted", against
    assert code_after == 1, f"verify after the tail was deleted: exit {code_after}\n{out_after}"
