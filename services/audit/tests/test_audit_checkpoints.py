"""Signed checkpoints against real Kafka and PostgreSQL: what the hash chain alone cannot see
(a deleted tail, a consistently rewritten log) is caught by holding the log against a checkpoint.

Each test gets a fresh database, its own signing key (so its checkpoints are told apart from
others on the shared topic) and a checkpointer that runs every 0.2 s.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.events import AUDIT_CHAIN_ID, AuditCheckpointed, parse_event
from services.audit import checkpoints, commands, verify
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, completed, submitted
from services.audit.tests.probes import INSPECTOR, integrity, publish
from services.audit.tests.tamper import rewrite_consistently
from services.kit.service import Runtime
from services.kit.testing import auth_header, consume_until, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration
TOKEN = INSPECTOR["Authorization"].removeprefix("Bearer ")


@dataclass
class Checkpointed:
    client: httpx.AsyncClient
    runtime: Runtime
    dsn: str
    bootstrap: str
    key: Ed25519PrivateKey
    checkpoint: AuditCheckpointed  # read back from Kafka, covering this test's events
    ours: list[dict]  # this test's records, in seq order


@pytest.fixture
async def checkpointed(infra, make_database, tmp_path) -> Checkpointed:
    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "audit-signing-key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    dsn = await make_database("it_audit_checkpoint")
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    app = create_app(AuditSettings(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                                   BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, signing_key_file=str(key_file),
                                   checkpoint_seconds=0.2, integrity_chunk=2))
    async with running_app(app) as client:
        runtime: Runtime = app.state.runtime
        case_id = uuid4()
        events = [submitted(case_id), assigned(case_id, version=1), completed(case_id, version=2)]
        await publish(infra.kafka_bootstrap, events)
        ours = await _logged(runtime, case_id, events)
        checkpoint = await _checkpoint_on_kafka(infra.kafka_bootstrap, key, covering=ours[-1]["seq"])
        await _logged(runtime, AUDIT_CHAIN_ID, [checkpoint])
        yield Checkpointed(client=client, runtime=runtime, dsn=dsn, bootstrap=infra.kafka_bootstrap, key=key,
                           checkpoint=checkpoint, ours=ours)


async def _checkpoint_on_kafka(bootstrap: str, key: Ed25519PrivateKey, *, covering: int) -> AuditCheckpointed:
    key_id = checkpoints.key_id(key.public_key())

    def ours(record) -> bool:
        body = json.loads(record.value)
        return body["payload"]["key_id"] == key_id and body["payload"]["head_seq"] >= covering

    record = await consume_until(bootstrap, AuditCheckpointed.TOPIC, ours)
    assert dict(record.headers)["event_type"] == b"AuditCheckpointed" and record.key == str(AUDIT_CHAIN_ID).encode()
    return parse_event(record.value)


async def _logged(runtime: Runtime, case_id, events) -> list[dict]:
    """`events`' records once all are in the log, in seq order. Read from the table, not through the history
    endpoint: every read there is itself recorded, and would move the head these tests hold still."""
    wanted = {e.event_id for e in events}

    async def probe():
        async with runtime.pool.acquire() as conn:
            rows = await conn.fetch("SELECT seq, event_id FROM audit_log WHERE case_id = $1 ORDER BY seq", case_id)
        found = [dict(r) for r in rows if r["event_id"] in wanted]
        return found if len(found) == len(wanted) else None

    return await eventually(probe, what=f"{len(wanted)} events of {case_id} in the audit log")


@asynccontextmanager
async def owner(dsn: str):
    """A superuser session on the audit schema with user triggers skipped."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        await conn.execute("SET session_replication_role = replica")
        yield conn
    finally:
        await conn.close()


async def held(client: httpx.AsyncClient, checkpoint: AuditCheckpointed) -> dict:
    resp = await client.get("/api/v1/integrity", headers=INSPECTOR, params={
        "checkpoint_seq": checkpoint.payload.head_seq, "checkpoint_hash": checkpoint.payload.head_hash})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _refused(runtime: Runtime) -> checkpoints.CheckpointRefused:
    stats: commands.CheckpointStats = runtime.deps.checkpoints

    async def probe():
        return stats.refused

    return await eventually(probe, timeout=15, what="the checkpointer to refuse")


async def test_checkpoint_on_kafka_is_signed_numbered_and_matches_the_log(checkpointed):
    c = checkpointed
    resp = await c.client.get("/api/v1/checkpoints/public-key", headers=INSPECTOR)
    assert resp.status_code == 200
    pinned = checkpoints.load_public_pem(resp.json()["public_key_pem"].encode())
    assert resp.json()["key_id"] == checkpoints.key_id(c.key.public_key()) == c.checkpoint.payload.key_id
    assert checkpoints.signature_fault(c.checkpoint, pinned) is None
    assert checkpoints.signature_fault(c.checkpoint, Ed25519PrivateKey.generate().public_key()) is not None

    cp = c.checkpoint
    assert (cp.case_id, cp.source, cp.township_id, cp.actor.kind) == (AUDIT_CHAIN_ID, "audit", "county", "system")
    assert cp.payload.head_seq >= c.ours[-1]["seq"] and cp.payload.records == cp.payload.head_seq
    stats: commands.CheckpointStats = c.runtime.deps.checkpoints
    assert stats.refused is None and stats.last.stream_version == stats.appended >= cp.stream_version  # 1, 2, … gapless

    report = await held(c.client, cp)
    assert report["valid"] is True
    assert report["checkpoint"] == {"seq": cp.payload.head_seq, "expected_hash": cp.payload.head_hash,
                                    "found_hash": cp.payload.head_hash, "matches": True, "problem": None,
                                    "message": "审计日志与检查点一致"}
    # Only the checkpoint itself arrived since: nothing new to sign.
    assert await commands.append_checkpoint(c.runtime.pool, c.key, now=c.runtime.clock.now(), chunk=10) is None

    # The inspectors' verifier, on what it reads from Kafka (this test's checkpoints only: the topic is shared).
    events, _ = await verify.read_checkpoints(c.bootstrap, timeout=30)
    mine = [e for e in events if e.payload.key_id == cp.payload.key_id]
    assert cp in mine and sorted({e.stream_version for e in mine}) == list(range(1, stats.appended + 1))
    verdict = await verify.inspect(mine, public_key=pinned, client=c.client, token=TOKEN)
    assert verdict.code == verify.OK, verdict.lines
    assert verdict.lines[-1] == "结论：审计日志完整，与已签名的检查点一致"


async def test_public_key_and_checkpoint_query_are_guarded(checkpointed):
    client = checkpointed.client
    staff = await client.get("/api/v1/checkpoints/public-key", headers=auth_header("staff", "qingshui"))
    assert staff.status_code == 403 and staff.json()["code"] == "ROLE_FORBIDDEN"
    half = await client.get("/api/v1/integrity", headers=INSPECTOR, params={"checkpoint_seq": 1})
    assert half.status_code == 422 and half.json()["code"] == "CHECKPOINT_INCOMPLETE"
    assert "同时提供" in half.json()["message"]
    bad = await client.get("/api/v1/integrity", headers=INSPECTOR,
                           params={"checkpoint_seq": 1, "checkpoint_hash": "xyz"})
    assert bad.status_code == 422 and bad.json()["code"] == "VALIDATION_FAILED"
    assert (await integrity(client))["checkpoint"] is None


async def test_deleted_tail_passes_the_chain_but_not_the_checkpoint(checkpointed):
    c = checkpointed
    cut_from = c.ours[-2]["seq"]  # the last two of ours, and everything after them
    async with owner(c.dsn) as conn:
        deleted = await conn.execute("DELETE FROM audit_log WHERE seq >= $1", cut_from)
    assert deleted.startswith("DELETE ") and int(deleted.split()[1]) >= 2

    plain = await integrity(c.client)
    assert plain["valid"] is True and plain["first_bad"] is None  # the chain alone cannot tell
    assert plain["head_seq"] == cut_from - 1

    report = await held(c.client, c.checkpoint)
    assert report["valid"] is False
    assert report["checkpoint"]["matches"] is False and report["checkpoint"]["problem"] == "tail_deleted"
    assert report["checkpoint"]["found_hash"] is None and "删除" in report["checkpoint"]["message"]

    verdict = await verify.inspect([c.checkpoint], public_key=c.key.public_key(), client=c.client, token=TOKEN)
    assert verdict.code == verify.TAMPERED and any("已被删除" in line for line in verdict.lines)

    # Nor is a new checkpoint signed over the shortened log.
    appended = c.runtime.deps.checkpoints.appended
    await publish(c.bootstrap, [assigned(uuid4(), version=1)])
    refused = await _refused(c.runtime)
    assert refused.details == {"seq": c.checkpoint.payload.head_seq, "reason": "tail_deleted"}
    assert c.runtime.deps.checkpoints.appended == appended


async def test_consistently_rewritten_log_passes_the_chain_but_not_the_checkpoint(checkpointed):
    c = checkpointed
    async with owner(c.dsn) as conn:
        await rewrite_consistently(conn, c.ours[0]["seq"])

    plain = await integrity(c.client)
    assert plain["valid"] is True and plain["head_seq"] >= c.checkpoint.payload.head_seq  # nothing looks wrong
    report = await held(c.client, c.checkpoint)
    assert report["valid"] is False
    check = report["checkpoint"]
    assert (check["matches"], check["problem"]) == (False, "hash_mismatch")
    assert check["found_hash"] not in (None, c.checkpoint.payload.head_hash) and "改写" in check["message"]

    verdict = await verify.inspect([c.checkpoint], public_key=c.key.public_key(), client=c.client, token=TOKEN)
    assert verdict.code == verify.TAMPERED and any("已被改写" in line for line in verdict.lines)

    appended = c.runtime.deps.checkpoints.appended
    await publish(c.bootstrap, [assigned(uuid4(), version=1)])
    refused = await _refused(c.runtime)
    assert refused.details["reason"] == "hash_mismatch"
    assert c.runtime.deps.checkpoints.appended == appended
