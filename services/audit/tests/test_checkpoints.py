"""Signed checkpoints without I/O (but the key file): canonical text, signatures, the series, the next head."""

import base64
import hashlib
import stat
from dataclasses import replace
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.events import AUDIT_CHAIN_ID, AuditCheckpointed
from services.audit import checkpoints, domain, verify
from services.audit.tests.builders import assigned, chain_of, checkpoint, series, submitted

pytestmark = pytest.mark.unit
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()


def test_chain_id_is_the_documented_constant():
    assert AUDIT_CHAIN_ID == uuid5(NAMESPACE_URL, "bianmin-audit-chain") == UUID("aa7c9a79-1323-5da3-96a1-68d4b69826bd")


def test_signed_text_is_fixed_ascii_lines():
    head = checkpoints.Head(number=3, head_seq=42, head_hash="ab" * 32, records=42, previous_head_seq=17)
    assert checkpoints.signed_text(head) == (
        "bianmin-audit-checkpoint/v1\n"
        "chain_id=aa7c9a79-1323-5da3-96a1-68d4b69826bd\n"
        "checkpoint=3\n"
        "head_seq=42\n"
        f"head_hash={'ab' * 32}\n"
        "records=42\n"
        "previous_head_seq=17\n"
    ).encode()


def test_key_id_is_sha256_of_the_raw_public_key():
    raw = PUBLIC.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert len(raw) == 32
    assert checkpoints.key_id(PUBLIC) == hashlib.sha256(raw).hexdigest()[:16]
    assert checkpoints.load_public_pem(checkpoints.public_pem(PUBLIC).encode()) == PUBLIC


def test_signature_verifies_with_the_signing_key():
    event = checkpoint(KEY, number=1, head_seq=5, previous_head_seq=0)
    assert checkpoints.signature_fault(event, PUBLIC) is None
    assert len(base64.b64decode(event.payload.signature)) == 64
    assert AuditCheckpointed.model_validate_json(event.to_json_bytes()) == event  # the contract accepts it


@pytest.mark.parametrize("change", [
    {"payload": {"head_seq": 6}}, {"payload": {"head_hash": "f" * 64}}, {"payload": {"records": 4}},
    {"payload": {"previous_head_seq": 1}}, {"stream_version": 2},
], ids=lambda c: next(iter(c.get("payload", c))))
def test_tampered_checkpoint_fails(change):
    event = checkpoint(KEY, number=1, head_seq=5, previous_head_seq=0)
    payload = event.payload.model_copy(update=change.get("payload", {}))
    forged = event.model_copy(update={k: v for k, v in change.items() if k != "payload"} | {"payload": payload})
    assert checkpoints.signature_fault(forged, PUBLIC) == f"第 {forged.stream_version} 号检查点签名无效"


def test_other_key_fails_even_when_it_claims_the_pinned_key_id():
    other = Ed25519PrivateKey.generate()
    event = checkpoint(other, number=1, head_seq=5, previous_head_seq=0)
    assert "与核验公钥不符" in checkpoints.signature_fault(event, PUBLIC)
    claimed = event.model_copy(update={"payload": event.payload.model_copy(
        update={"key_id": checkpoints.key_id(PUBLIC)})})
    assert checkpoints.signature_fault(claimed, PUBLIC) == "第 1 号检查点签名无效"


def test_checkpoint_of_another_stream_fails():
    event = checkpoint(KEY, number=1, head_seq=5, previous_head_seq=0).model_copy(update={"case_id": uuid4()})
    assert "不属于审计链" in checkpoints.signature_fault(event, PUBLIC)


def test_a_sound_series_and_its_republished_copies_pass():
    events = series(KEY, 3, 7, 12)
    judgement = checkpoints.judge([events[2], events[0], events[1], events[1]], PUBLIC)
    assert judgement.problems == []
    assert [e.stream_version for e in judgement.checkpoints] == [1, 2, 3] and judgement.latest == events[2]


def test_series_faults_gap_fork_and_broken_succession():
    events = series(KEY, 3, 7, 12)
    assert checkpoints.judge([events[0], events[2]], PUBLIC).problems == ["检查点编号不连续：缺少第 2 号"]
    assert checkpoints.judge(events[1:], PUBLIC).problems == ["检查点编号不连续：缺少第 1 号"]
    fork = checkpoint(KEY, number=2, head_seq=8, previous_head_seq=3)
    assert checkpoints.judge([*events, fork], PUBLIC).problems == ["第 2 号检查点出现两个不同版本"]
    skipped = checkpoint(KEY, number=3, head_seq=12, previous_head_seq=5)  # does not start where 2 ended
    assert checkpoints.judge([*events[:2], skipped], PUBLIC).problems == ["第 3 号检查点未接续上一个检查点"]
    backwards = checkpoint(KEY, number=3, head_seq=6, previous_head_seq=7)
    assert checkpoints.judge([*events[:2], backwards], PUBLIC).problems == ["第 3 号检查点未接续上一个检查点"]


def test_a_badly_signed_checkpoint_is_left_out_and_reported():
    events = series(KEY, 3, 7)
    stranger = checkpoint(Ed25519PrivateKey.generate(), number=3, head_seq=9, previous_head_seq=7)
    judgement = checkpoints.judge([*events, stranger], PUBLIC)
    assert judgement.latest == events[1] and len(judgement.problems) == 1


def _records():
    case_id = uuid4()
    return chain_of([submitted(case_id), assigned(case_id, version=1), assigned(case_id, version=2)])


def test_first_checkpoint_covers_the_chain_from_genesis():
    records = _records()
    head = checkpoints.next_head(None, checkpoints.advance(checkpoints.start_from(None), records))
    assert head == checkpoints.Head(number=1, head_seq=3, head_hash=records[-1].hash, records=3, previous_head_seq=0)


def test_next_checkpoint_extends_the_last_only_when_more_than_checkpoints_arrived():
    records = _records()
    last = checkpoints.Head(number=4, head_seq=1, head_hash=records[0].hash, records=1, previous_head_seq=0)
    progress = checkpoints.advance(checkpoints.start_from(last), records[1:2])
    progress = checkpoints.advance(progress, records[2:])  # chunk by chunk
    assert checkpoints.next_head(last, progress) == checkpoints.Head(
        number=5, head_seq=3, head_hash=records[-1].hash, records=3, previous_head_seq=1)
    assert checkpoints.next_head(last, checkpoints.start_from(last)) is None

    cp = chain_of([submitted(uuid4()), checkpoint(KEY, number=1, head_seq=1, previous_head_seq=0)])
    last = checkpoints.Head(number=1, head_seq=1, head_hash=cp[0].hash, records=1, previous_head_seq=0)
    assert checkpoints.next_head(last, checkpoints.advance(checkpoints.start_from(last), cp[1:])) is None


def test_no_checkpoint_over_a_chain_that_does_not_extend_the_last():
    records = _records()
    last = checkpoints.Head(number=1, head_seq=1, head_hash="e" * 64, records=1, previous_head_seq=0)
    progress = checkpoints.advance(checkpoints.start_from(last), records[1:])
    with pytest.raises(checkpoints.CheckpointRefused) as refused:
        checkpoints.next_head(last, progress)
    assert refused.value.details["reason"] == "prev_hash_mismatch" and refused.value.code == "CHAIN_DIVERGED"
    forged = [records[0], replace(records[1], township_id="baishi"), records[2]]
    with pytest.raises(checkpoints.CheckpointRefused):
        checkpoints.next_head(None, checkpoints.advance(checkpoints.start_from(None), forged))


def test_log_held_against_a_checkpoint():
    ok = domain.check_checkpoint(seq=5, expected_hash="a" * 64, found_hash="a" * 64, head_seq=9)
    assert ok.matches and ok.message == "审计日志与检查点一致"
    cut = domain.check_checkpoint(seq=5, expected_hash="a" * 64, found_hash=None, head_seq=3)
    assert (cut.matches, cut.problem) == (False, "tail_deleted") and "删除" in cut.message
    hole = domain.check_checkpoint(seq=5, expected_hash="a" * 64, found_hash=None, head_seq=9)
    assert (hole.matches, hole.problem) == (False, "record_missing")
    rewritten = domain.check_checkpoint(seq=5, expected_hash="a" * 64, found_hash="b" * 64, head_seq=9)
    assert (rewritten.matches, rewritten.problem) == (False, "hash_mismatch") and "改写" in rewritten.message


def test_development_key_is_created_once_private_and_reused(tmp_path):
    path = tmp_path / "keys" / "audit-signing-key.pem"
    first = checkpoints.load_signing_key(None, development_path=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = checkpoints.load_signing_key(None, development_path=path)
    assert checkpoints.key_id(first.public_key()) == checkpoints.key_id(again.public_key())
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no draft left behind


def test_configured_key_file_is_used_and_must_be_ed25519(tmp_path):
    own = tmp_path / "own.pem"
    own.write_bytes(KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    loaded = checkpoints.load_signing_key(str(own), development_path=tmp_path / "dev.pem")
    assert checkpoints.key_id(loaded.public_key()) == checkpoints.key_id(PUBLIC)
    assert not (tmp_path / "dev.pem").exists()
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ValueError, match="Ed25519"):
        checkpoints.load_signing_key(str(ec_key), development_path=tmp_path / "dev.pem")


async def test_verifier_without_valid_checkpoints_does_not_ask_the_service():
    assert (await verify.inspect([], public_key=PUBLIC, client=None, token="t")).code == verify.UNUSABLE
    stranger = series(Ed25519PrivateKey.generate(), 3)
    verdict = await verify.inspect(stranger * 2, public_key=PUBLIC, client=None, token="t")
    assert verdict.code == verify.TAMPERED
    assert [line for line in verdict.lines if line.startswith("问题")] == [
        f"问题：2 个检查点由其他密钥 {stranger[0].payload.key_id} 签名，与核验公钥不符"]


def test_verifier_usage_errors_exit_2(tmp_path, capsys):
    common = ["--bootstrap-servers", "127.0.0.1:1", "--audit-url", "http://127.0.0.1:1", "--token", "t"]
    assert verify.main([*common, "--public-key", str(tmp_path / "missing.pem")]) == verify.UNUSABLE
    assert "无法读取公钥文件" in capsys.readouterr().out
    not_a_key = tmp_path / "bad.pem"
    not_a_key.write_text("not a key")
    assert verify.main([*common, "--public-key", str(not_a_key)]) == verify.UNUSABLE
    assert "公钥" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        verify.main(common)
    assert exited.value.code == verify.UNUSABLE
