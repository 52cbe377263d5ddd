"""The inspectors' verifier, run as a separate program against the four services as processes: heads
signed by audit and read from Kafka are kept, a submitted case's event is proven in them, the whole
export recomputes to their roots; after the database's owner deletes the log's tail, the same
export check fails and names the first deleted record."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.events import AuditCheckpointed
from deploy.services import build_system
from services.audit import checkpoints, verify
from services.kit.testing import eventually, start_group_at_end
from services.notify.tests.rules_off import RULES_OFF_ENV
from tests import scenario
from tests.conftest import PORT_OFFSET, Api

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
TOKEN = Api.INSPECTOR["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
async def signed(infra, make_database, tmp_path_factory):
    """(api, owner DSN, work dir, signing key) of a system whose audit signs a head every half second."""
    work = tmp_path_factory.mktemp("proofs")
    key = Ed25519PrivateKey.generate()
    (work / "signing.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (work / "pinned.pem").write_text(checkpoints.public_pem(key.public_key()), encoding="ascii")
    suffix = f"-proofs-{uuid.uuid4().hex[:6]}"
    for name in ("intake", "routing", "notify", "audit"):
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
    dsn = await make_database("proofs")
    system = build_system(
        kafka=infra.kafka_bootstrap, database_url=dsn, port_offset=PORT_OFFSET + 60, log_dir=work / "logs",
        run_dir=work / "run", kafka_user_env=infra.kafka_user_env,
        extra_env={"BIANMIN_CONSUMER_GROUP_SUFFIX": suffix, "AUDIT_CHECKPOINT_SECONDS": "0.5",
                   "AUDIT_SIGNING_KEY_FILE": str(work / "signing.pem"), **RULES_OFF_ENV},
    )
    system.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            yield Api(client, system), dsn, work, key
    finally:
        system.stop()


def verifier(api: Api, work: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.audit.verifier", *argv,
                           "--public-key", str(work / "pinned.pem"), "--heads-file", str(work / "heads.jsonl"),
                           "--audit-url", api.system["audit"].url, "--token", TOKEN],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


async def heads_covering(bootstrap: str, key: Ed25519PrivateKey, seq: int) -> list[AuditCheckpointed]:
    """This system's heads on the shared topic (others are signed by other keys), once one covers `seq`."""
    mine = checkpoints.key_id(key.public_key())

    async def probe():
        events, _ = await verify.read_checkpoints(bootstrap, timeout=30)
        heads = sorted({e.stream_version: e for e in events if e.payload.key_id == mine}.values(),
                       key=lambda e: e.stream_version)
        return heads if heads and (heads[-1].payload.tree_size or 0) >= seq else None

    return await eventually(probe, timeout=60, what=f"a signed tree head covering record {seq}")


async def test_the_verifier_proves_the_log_and_names_a_deleted_tail(signed, infra):
    api, dsn, work, key = signed
    created = await scenario.submit(api, seed=91)
    history = await scenario.history_with(api, created["case_id"], ["CaseSubmitted"])
    submitted = next(e for e in history["events"] if e["event_type"] == "CaseSubmitted")
    heads = await heads_covering(infra.kafka_bootstrap, key, submitted["seq"])
    (work / "read.jsonl").write_text("".join(h.model_dump_json() + "\n" for h in heads), encoding="utf-8")

    kept = verifier(api, work, "heads", "--from-file", str(work / "read.jsonl"))
    assert kept.returncode == 0, kept.stdout + kept.stderr
    proven = verifier(api, work, "inclusion", submitted["event_id"])
    assert proven.returncode == 0 and "结论：包含性证明有效" in proven.stdout, proven.stdout + proven.stderr
    exported = verifier(api, work, "export", str(work / "before.jsonl"), "--fetch")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "结论：导出与已签名的检查点一致，审计日志完整" in exported.stdout

    signed_size = heads[-1].payload.tree_size
    assert signed_size is not None
    owner = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        async with owner.transaction():
            await owner.execute("SET LOCAL session_replication_role = replica")
            await owner.execute("SELECT pg_advisory_xact_lock(hashtext('audit_log:append'))")
            await owner.execute("DELETE FROM audit_log WHERE seq >= $1", submitted["seq"])
    finally:
        await owner.close()
    caught = verifier(api, work, "export", str(work / "after.jsonl"), "--fetch")
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert f"序号 {submitted['seq']} 起的记录已被删除" in caught.stdout, caught.stdout
