"""Signed tree heads (checkpoint text v2), keyrings for rotated keys, and the verifier's export
check on files, offline: the command line's exit codes, as an inspector runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.envelope import Actor, new_event_id
from contracts.events import AUDIT_CHAIN_ID, AUDIT_TOWNSHIP_ID, AuditCheckpointed, AuditCheckpointedPayload
from services.audit import checkpoints, keyring, merkle, merkle_store
from services.audit.export_routes import export_line
from services.audit.tests.builders import T0, assigned, chain_of, checkpoint, submitted
from services.audit.verifier.export_check import ExportCheck

ROOT = Path(__file__).resolve().parents[3]


def records(n: int = 5):
    case_id = uuid4()
    return chain_of([submitted(case_id), *(assigned(case_id, version=v) for v in range(1, n))])


def tree_head(key: Ed25519PrivateKey, chain, *, number: int = 1, size: int | None = None,
              previous: int = 0) -> AuditCheckpointed:
    size = size or len(chain)
    builder = merkle.RootBuilder()
    for record in chain[:size]:
        builder.append(merkle_store.record_leaf(record))
    head = checkpoints.Head(number=number, head_seq=size, head_hash=chain[size - 1].hash, records=size,
                            previous_head_seq=previous, tree_size=size, root_hash=builder.root().hex())
    return AuditCheckpointed(event_id=new_event_id(), schema_version="1.1", occurred_at=T0, source="audit",
                             case_id=AUDIT_CHAIN_ID, stream_version=number, township_id=AUDIT_TOWNSHIP_ID,
                             actor=Actor(kind="system", id="audit"), correlation_id=AUDIT_CHAIN_ID,
                             payload=checkpoints.sign(key, head))


def test_a_checkpoint_from_before_the_tree_still_parses_and_verifies():
    key = Ed25519PrivateKey.generate()
    old = checkpoint(key, number=1, head_seq=3, previous_head_seq=0)
    body = json.loads(old.model_dump_json())
    for name in ("tree_size", "root_hash"):
        del body["payload"][name]  # as 1.0 heads were published
    parsed = AuditCheckpointed.model_validate(body)
    assert parsed.payload.tree_size is None
    assert checkpoints.signed_text(checkpoints.head_of(parsed)).startswith(b"bianmin-audit-checkpoint/v1\n")
    assert checkpoints.signature_fault(parsed, key.public_key()) is None


def test_a_tree_head_signs_its_root_size_and_key():
    key = Ed25519PrivateKey.generate()
    head = tree_head(key, records())
    text = checkpoints.signed_text(checkpoints.head_of(head)).decode()
    assert text.startswith("bianmin-audit-checkpoint/v2\n")
    assert f"key_id={head.payload.key_id}\ntree_size=5\nroot_hash={head.payload.root_hash}\n" in text
    assert checkpoints.signature_fault(head, key.public_key()) is None
    for change in ({"root_hash": "0" * 64}, {"tree_size": 4}):
        forged = head.model_copy(update={"payload": head.payload.model_copy(update=change)})
        assert checkpoints.signature_fault(forged, key.public_key()) == "第 1 号检查点签名无效"


def test_heads_verify_with_the_key_each_names(tmp_path):
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    chain = records(6)
    heads = [tree_head(old_key, chain, size=3), tree_head(new_key, chain, number=2, size=6, previous=3)]
    bundle = tmp_path / "keys" / "bundle.pem"
    bundle.parent.mkdir()
    bundle.write_text(checkpoints.public_pem(old_key.public_key()) + checkpoints.public_pem(new_key.public_key()))
    ring = keyring.load_keyring([bundle.parent])
    assert set(ring) == {checkpoints.key_id(old_key.public_key()), checkpoints.key_id(new_key.public_key())}
    judged = checkpoints.judge(heads, ring)
    assert judged.problems == [] and judged.checkpoints == heads
    only_new = checkpoints.judge(heads, keyring.keyring([new_key.public_key()]))
    assert only_new.problems[0] == f"1 个检查点由其他密钥 {heads[0].payload.key_id} 签名，与核验公钥不符"
    lying = heads[1].model_copy(update={"payload": heads[1].payload.model_copy(update={"tree_size": 5})})
    assert "第 2 号检查点签名无效" in checkpoints.judge([heads[0], lying], ring).problems


def test_export_check_names_the_first_changed_record_and_a_deleted_tail():
    key = Ed25519PrivateKey.generate()
    chain = records(8)
    head = tree_head(key, chain, size=6)
    lines = [export_line(r) for r in chain]

    intact = _check(lines, head)
    assert intact.first_bad is None and intact.mismatches == [] and intact.missing_tail() is None

    changed = _check([*lines[:2], lines[2].replace("qingshui", "baishi"), *lines[3:]], head)
    assert changed.first_bad == (3, "序号 3 的记录内容与其哈希不符：该记录已被改动")
    assert [(m.first_seq, m.last_seq) for m in changed.mismatches] == [(1, 6)]

    cut = _check(lines[:4], head)
    assert cut.first_bad is None and cut.missing_tail() == head and cut.records == 4


def _check(lines: list[str], head: AuditCheckpointed) -> ExportCheck:
    check = ExportCheck(heads=[head])
    for line in lines:
        check.feed(line)
    return check


def test_the_command_line_exit_codes(tmp_path):
    key = Ed25519PrivateKey.generate()
    chain = records(5)
    (tmp_path / "key.pem").write_text(checkpoints.public_pem(key.public_key()))
    (tmp_path / "heads.jsonl").write_text(tree_head(key, chain).model_dump_json() + "\n")
    (tmp_path / "export.jsonl").write_text("".join(export_line(r) for r in chain))
    (tmp_path / "cut.jsonl").write_text("".join(export_line(r) for r in chain[:3]))

    def verifier(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "services.audit.verifier", *argv, "--public-key",
                               str(tmp_path / "key.pem"), "--heads-file", str(tmp_path / "heads.jsonl")],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)

    ok = verifier("export", str(tmp_path / "export.jsonl"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.splitlines()[-1] == "结论：导出与已签名的检查点一致，审计日志完整"
    cut = verifier("export", str(tmp_path / "cut.jsonl"))
    assert cut.returncode == 1 and "序号 4 起的记录已被删除" in cut.stdout
    missing = verifier("export", str(tmp_path / "nowhere.jsonl"))
    assert missing.returncode == 2 and "不存在" in missing.stdout
    no_server = verifier("inclusion", str(chain[0].event_id))
    assert no_server.returncode == 2 and "--audit-url" in no_server.stdout


def test_payload_defaults_keep_old_producers_valid():
    fields = AuditCheckpointedPayload.model_fields
    assert fields["tree_size"].default is None and fields["root_hash"].default is None
