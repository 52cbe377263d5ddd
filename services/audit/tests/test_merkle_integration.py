"""The Merkle tree on real Kafka and PostgreSQL: nodes written with each record, signed tree heads,
proofs and the export over HTTP, and the standalone verifier against heads it keeps.

Each test gets a fresh database and its own signing keys. The periodic checkpointer is slowed to an
hour: heads are signed by calling the checkpointer's use case, so each test knows which heads exist.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.events import AuditCheckpointed
from contracts.inspection_events import ACCESS_LOG_ID
from services.audit import checkpoints, commands, merkle, merkle_store, store
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, completed, submitted
from services.audit.tests.probes import INSPECTOR, history_of, only, publish
from services.audit.tests.tamper import rewrite_consistently
from services.audit.verifier import cli
from services.audit.verify import OK, TAMPERED, Verdict
from services.kit.service import Runtime
from services.kit.testing import auth_header, running_app, start_group_at_end

pytestmark = pytest.mark.integration
TOKEN = INSPECTOR["Authorization"].removeprefix("Bearer ")


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Log:
    client: httpx.AsyncClient
    runtime: Runtime
    dsn: str
    bootstrap: str
    key: Ed25519PrivateKey
    keys_dir: Path  # the inspector's pinned public keys
    heads_file: Path
    tmp: Path
    ours: list[dict]  # this test's first three records, in seq order

    async def sign(self, key: Ed25519PrivateKey | None = None) -> AuditCheckpointed:
        event = await commands.append_checkpoint(self.runtime.pool, key or self.key, now=self.runtime.clock.now(),
                                                 chunk=2)
        assert event is not None and event.payload.tree_size == event.payload.head_seq
        return event

    async def verifier(self, *argv: str, heads_file: Path | None = None, keys: Path | None = None) -> Verdict:
        command, *rest = argv
        args = cli.parser().parse_args([command, *rest, "--public-key", str(keys or self.keys_dir),
                                        "--heads-file", str(heads_file or self.heads_file), "--token", TOKEN])
        return await cli.run(args, client=self.client)

    async def keep(self, *heads: AuditCheckpointed) -> Verdict:
        """The inspector reads these heads (as from Kafka) and keeps the ones that verify."""
        source = self.tmp / f"read-{uuid4().hex[:6]}.jsonl"
        source.write_text("".join(h.model_dump_json() + "\n" for h in heads), encoding="utf-8")
        return await self.verifier("heads", "--from-file", str(source))

    async def log_more(self) -> list[dict]:
        case_id = uuid4()
        events = [assigned(case_id, version=1), completed(case_id, version=2)]
        await publish(self.bootstrap, events)
        return sorted(only(await history_of(self.client, case_id, events), events), key=lambda e: e["seq"])


@asynccontextmanager
async def audit_log(infra, make_database, tmp_path: Path, *, retired: list[Ed25519PrivateKey] = ()) -> AsyncIterator[Log]:
    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "audit-signing-key.pem"
    key_file.write_bytes(private_pem(key))
    keys_dir = tmp_path / "pinned"
    keys_dir.mkdir()
    for n, k in enumerate([key, *retired]):
        (keys_dir / f"key-{n}.pem").write_text(checkpoints.public_pem(k.public_key()), encoding="ascii")
    retired_file = tmp_path / "retired.pem"
    retired_file.write_text("".join(checkpoints.public_pem(k.public_key()) for k in retired), encoding="ascii")
    dsn = await make_database("it_audit_merkle")
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    app = create_app(AuditSettings(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                                   BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, signing_key_file=str(key_file),
                                   retired_public_keys_file=str(retired_file) if retired else None,
                                   checkpoint_seconds=3600, integrity_chunk=3))
    async with running_app(app) as client:
        case_id = uuid4()
        events = [submitted(case_id), assigned(case_id, version=1), completed(case_id, version=2)]
        await publish(infra.kafka_bootstrap, events)
        ours = sorted(only(await history_of(client, case_id, events), events), key=lambda e: e["seq"])
        yield Log(client=client, runtime=app.state.runtime, dsn=dsn, bootstrap=infra.kafka_bootstrap, key=key,
                  keys_dir=keys_dir, heads_file=tmp_path / "heads.jsonl", tmp=tmp_path, ours=ours)


@pytest.fixture
async def log(infra, make_database, tmp_path) -> AsyncIterator[Log]:
    async with audit_log(infra, make_database, tmp_path) as opened:
        yield opened


@asynccontextmanager
async def owner(dsn: str):
    """A superuser session on the audit schema with user triggers skipped."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        await conn.execute("SET session_replication_role = replica")
        yield conn
    finally:
        await conn.close()


async def export(log: Log) -> Verdict:
    return await log.verifier("export", str(log.tmp / f"export-{uuid4().hex[:6]}.jsonl"), "--fetch")


async def test_heads_proofs_and_export_verify_without_trusting_the_server(log):
    first = await log.sign()
    assert first.schema_version == "1.1" and first.payload.root_hash is not None
    async with log.runtime.pool.acquire() as conn:
        assert await merkle_store.size(conn) == first.payload.tree_size  # one leaf per record, none missing
    kept = await log.keep(first)
    assert kept.code == OK, kept.lines

    later = await log.log_more()
    second = await log.sign()
    assert second.payload.tree_size >= later[-1]["seq"]
    kept = await log.keep(first, second)  # the second extends the first: a consistency proof, checked locally
    assert kept.code == OK, kept.lines
    assert [json.loads(line)["stream_version"] for line in log.heads_file.read_text().splitlines()] == [
        first.stream_version, second.stream_version]

    proven = await log.verifier("inclusion", log.ours[1]["event_id"], "--checkpoint", str(first.stream_version))
    assert proven.code == OK and proven.lines[-1] == "结论：包含性证明有效", proven.lines
    proven = await log.verifier("inclusion", later[0]["event_id"])  # against the latest kept head
    assert proven.code == OK, proven.lines

    checked = await export(log)
    assert checked.code == OK and checked.lines[-1] == "结论：导出与已签名的检查点一致，审计日志完整", checked.lines

    resp = await log.client.get("/api/v1/checkpoints", headers=INSPECTOR)
    assert resp.status_code == 200
    listed = [h for h in resp.json() if h["checkpoint"] in (first.stream_version, second.stream_version)]
    assert [(h["tree_size"], h["root_hash"], h["key_id"]) for h in listed] == [
        (h.payload.tree_size, h.payload.root_hash, h.payload.key_id) for h in (first, second)]
    # Every proof and the export were recorded with the answer.
    async with log.runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT body FROM events WHERE case_id = $1", ACCESS_LOG_ID)
    queries = {json.loads(r["body"])["payload"]["query"] for r in rows}
    assert {"proof_consistency", "proof_inclusion", "export", "checkpoints"} <= queries


async def test_proofs_answer_the_same_as_the_tree_math(log):
    head = await log.sign()
    size, root = head.payload.tree_size, bytes.fromhex(head.payload.root_hash)
    resp = await log.client.get("/api/v1/proofs/inclusion", headers=INSPECTOR,
                                params={"event_id": log.ours[2]["event_id"], "checkpoint": head.stream_version})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["seq"] == log.ours[2]["seq"] and body["leaf_index"] == body["seq"] - 1 and body["tree_size"] == size
    leaf = merkle.leaf_hash(body["leaf_data"].encode())
    assert body["leaf_hash"] == leaf.hex()
    assert merkle.verify_inclusion(body["leaf_index"], size, leaf, [bytes.fromhex(h) for h in body["audit_path"]], root)
    async with log.runtime.pool.acquire() as conn:
        records = [r async for chunk in _chunks(conn) for r in chunk]
    builder = merkle.RootBuilder()
    for record in records[:size]:
        builder.append(merkle_store.record_leaf(record))
    assert builder.root() == root  # the signed root is the root of the records themselves


async def _chunks(conn):
    async with conn.transaction():
        async for chunk in store.record_chunks(conn, size=100):
            yield chunk


async def test_bad_proof_requests_are_refused_with_stable_codes(log):
    c = log.client
    none_yet = await c.get("/api/v1/proofs/inclusion", headers=INSPECTOR, params={"event_id": log.ours[0]["event_id"]})
    assert none_yet.status_code == 404 and none_yet.json() == {"code": "CHECKPOINT_NOT_FOUND",
                                                               "message": "尚未签发任何检查点"}
    head = await log.sign()
    cases = [
        ("/api/v1/proofs/inclusion", {"event_id": log.ours[0]["event_id"], "checkpoint": 999}, 404,
         "CHECKPOINT_NOT_FOUND"),
        ("/api/v1/proofs/inclusion", {"event_id": str(uuid4())}, 404, "EVENT_NOT_IN_LOG"),
        ("/api/v1/proofs/consistency", {"first": head.stream_version, "second": 999}, 404, "CHECKPOINT_NOT_FOUND"),
        ("/api/v1/proofs/consistency", {"first": 2, "second": 1}, 422, "FIRST_AFTER_SECOND"),
        ("/api/v1/proofs/consistency", {"first": 0, "second": 1}, 422, "VALIDATION_FAILED"),
        ("/api/v1/checkpoints", {"limit": 5000}, 422, "VALIDATION_FAILED"),
    ]
    for path, params, status, code in cases:
        resp = await c.get(path, headers=INSPECTOR, params=params)
        assert (resp.status_code, resp.json()["code"]) == (status, code), (path, params, resp.text)
        assert resp.json()["message"]
    later = await log.log_more()
    after = await c.get("/api/v1/proofs/inclusion", headers=INSPECTOR,
                        params={"event_id": later[0]["event_id"], "checkpoint": head.stream_version})
    assert after.status_code == 422 and after.json()["code"] == "EVENT_AFTER_CHECKPOINT" and "之后" in after.json()["message"]
    for role in ("staff", "village_agent", "centre_head"):
        for path in ("/api/v1/proofs/consistency?first=1&second=1", "/api/v1/export", "/api/v1/checkpoints",
                     "/api/v1/checkpoints/public-keys"):
            resp = await c.get(path, headers=auth_header(role, "qingshui"))
            assert resp.status_code == 403 and resp.json()["code"] == "ROLE_FORBIDDEN", (role, path)


async def test_deleted_tail_after_a_signed_head_is_named_by_the_export_check(log):
    head = await log.sign()
    assert (await log.keep(head)).code == OK
    cut_from = log.ours[1]["seq"]
    async with owner(log.dsn) as conn, conn.transaction():
        await store.lock_log(conn)  # no append in flight
        await conn.execute("DELETE FROM audit_log WHERE seq >= $1", cut_from)
    checked = await export(log)
    assert checked.code == TAMPERED
    assert any(f"序号 {cut_from} 起的记录已被删除" in line for line in checked.lines), checked.lines


async def test_consistently_rewritten_log_differs_from_the_kept_root(log):
    head = await log.sign()
    assert (await log.keep(head)).code == OK
    async with owner(log.dsn) as conn:
        await rewrite_consistently(conn, log.ours[0]["seq"])  # the chain stays valid
    checked = await export(log)
    assert checked.code == TAMPERED, checked.lines
    # The chain may show a break only after the rewritten records (a record logged while they were rewritten).
    assert not any(f"第一条不一致的记录：序号 {log.ours[0]['seq']} " in line for line in checked.lines), checked.lines
    assert any("树根与第" in line for line in checked.lines)
    assert any(f"第一条无法证明与检查点一致的记录：序号 {log.ours[0]['seq']}" in line for line in checked.lines), checked.lines
    # Nor does the signer vouch for it: the log below the last head changed.
    await log.log_more()
    with pytest.raises(checkpoints.CheckpointRefused):
        await log.sign()


async def test_changed_middle_record_is_named(log):
    head = await log.sign()
    assert (await log.keep(head)).code == OK
    target = log.ours[1]["seq"]
    async with owner(log.dsn) as conn:
        await conn.execute("UPDATE audit_log SET envelope = replace(envelope, '\"qingshui\"', '\"baishi\"')"
                           " WHERE seq = $1", target)
    checked = await export(log)
    assert checked.code == TAMPERED
    assert any(f"第一条不一致的记录：序号 {target} 的记录内容与其哈希不符" in line for line in checked.lines), checked.lines


async def test_reused_record_numbers_fail_the_append_and_the_signer(log):
    head = await log.sign()
    assert (await log.keep(head)).code == OK
    later = await log.log_more()
    async with owner(log.dsn) as conn, conn.transaction():  # records after the signed head: no head names them
        await store.lock_log(conn)
        await conn.execute("DELETE FROM audit_log WHERE seq >= $1", later[0]["seq"])
    with pytest.raises(merkle_store.TreeDiverged):
        async with log.runtime.pool.acquire() as conn, conn.transaction():
            await commands.record_event(conn, assigned(uuid4(), version=1), now=log.runtime.clock.now())
    with pytest.raises(checkpoints.CheckpointRefused) as refused:
        await log.sign()
    assert refused.value.details["reason"] == "records_lost"

    # Numbers reused anyway, nodes and all, by the owner: the kept head's root no longer matches.
    async with owner(log.dsn) as conn, conn.transaction():
        await store.lock_log(conn)
        await conn.execute("DELETE FROM merkle_nodes")
        await conn.execute("DELETE FROM audit_log WHERE seq >= $1", log.ours[2]["seq"])
    async with log.runtime.pool.acquire() as conn, conn.transaction():
        await commands.record_event(conn, assigned(uuid4(), version=1), now=log.runtime.clock.now())
    checked = await export(log)
    assert checked.code == TAMPERED
    # The server's tree was rebuilt too, so its proofs prove nothing: the range is what the kept head shows.
    assert any(f"前 {head.payload.tree_size} 条记录的树根与第 {head.stream_version} 号检查点签署的不符" in line
               for line in checked.lines), checked.lines


async def test_records_logged_before_the_tree_are_added_at_start(log):
    async with owner(log.dsn) as conn, conn.transaction():
        await store.lock_log(conn)  # not in the middle of the consumer's append, which adds nodes
        await conn.execute("DELETE FROM merkle_nodes")  # as on a log from before migration 002
    await merkle_store.catch_up(log.runtime.pool)  # or an append of the consumer's got there first: it catches up too
    async with log.runtime.pool.acquire() as conn:
        head_seq, _ = await store.head(conn)
        assert await merkle_store.size(conn) >= head_seq >= len(log.ours)
    head = await log.sign()
    assert (await log.keep(head)).code == OK
    assert (await export(log)).code == OK


async def test_rotated_keys_verify_old_and_new_heads(infra, make_database, tmp_path):
    old_key = Ed25519PrivateKey.generate()
    async with audit_log(infra, make_database, tmp_path, retired=[old_key]) as log:
        before = await log.sign(old_key)  # signed before the rotation
        await log.log_more()
        after = await log.sign()  # by the current key
        assert before.payload.key_id != after.payload.key_id
        kept = await log.keep(before, after)
        assert kept.code == OK, kept.lines

        resp = await log.client.get("/api/v1/checkpoints/public-keys", headers=INSPECTOR)
        assert resp.status_code == 200
        assert [(k["key_id"], k["status"]) for k in resp.json()] == [
            (after.payload.key_id, "current"), (before.payload.key_id, "retired")]

        only_new = tmp_path / "only-new.pem"
        only_new.write_text(checkpoints.public_pem(log.key.public_key()), encoding="ascii")
        refused = await log.verifier("heads", "--from-file", str(tmp_path / "heads.jsonl"),
                                     heads_file=tmp_path / "other-heads.jsonl", keys=only_new)
        assert refused.code == TAMPERED
        assert any(f"其他密钥 {before.payload.key_id}" in line for line in refused.lines), refused.lines


async def test_unsigned_kept_heads_and_forged_roots_are_refused(log):
    head = await log.sign()
    forged = head.model_copy(update={"payload": head.payload.model_copy(update={"root_hash": "0" * 64})})
    verdict = await log.keep(forged)
    assert verdict.code == TAMPERED and any("签名无效" in line for line in verdict.lines), verdict.lines
    assert not log.heads_file.exists() or log.heads_file.read_text() == ""
