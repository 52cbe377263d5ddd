"""Signed checkpoints of the audit chain head: the canonical text, Ed25519 signing and checking.

Pure functions over keys and events; the one function with I/O, `load_signing_key`, is at the end.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.errors import DomainError
from contracts.events import AUDIT_CHAIN_ID, AuditCheckpointed, AuditCheckpointedPayload
from services.audit import domain
from services.kit.local_secret import create_once

log = logging.getLogger(__name__)

SIGNED_TEXT_TAG = "bianmin-audit-checkpoint/v1"
SIGNED_TREE_HEAD_TAG = "bianmin-audit-checkpoint/v2"  # v1's lines, then key_id, tree_size and root_hash


@dataclass(frozen=True)
class Head:
    """What a checkpoint attests: the chain up to `head_seq` ends in `head_hash`."""

    number: int
    head_seq: int
    head_hash: str
    records: int
    previous_head_seq: int
    tree_size: int | None = None  # v2: the signed Merkle tree head (records 1..tree_size)
    root_hash: str | None = None
    key_id: str | None = None  # v2 signs the key's id as well


class CheckpointRefused(DomainError):
    """The chain no longer extends the last checkpoint; the signer must not vouch for it."""

    status, code, message = 409, "CHAIN_DIVERGED", "审计链与上一个检查点不衔接，拒绝签发新检查点"


@dataclass(frozen=True)
class Progress:
    """The chain verified from the last checkpoint on, and whether anything but checkpoints arrived."""

    chain: domain.ChainState
    moved: bool = False


def start_from(last: Head | None) -> Progress:
    if last is None:
        return Progress(chain=domain.ChainState())
    return Progress(chain=domain.ChainState(records=last.records, head_seq=last.head_seq, head_hash=last.head_hash))


def is_checkpoint_record(record: domain.AuditRecord) -> bool:
    return record.case_id == AUDIT_CHAIN_ID and record.event_type == "AuditCheckpointed"


def advance(progress: Progress, records: list[domain.AuditRecord]) -> Progress:
    """Feed the records after the last checkpoint, in seq order, chunk by chunk."""
    return Progress(chain=domain.verify_chain(records, progress.chain),
                    moved=progress.moved or any(not is_checkpoint_record(r) for r in records))


def next_head(last: Head | None, progress: Progress) -> Head | None:
    """The head to sign next, or None when only checkpoints arrived since the last one
    (else an idle log would get a new checkpoint, covering the previous one, every period)."""
    if bad := progress.chain.first_bad:
        raise CheckpointRefused(details={"seq": bad.seq, "event_id": str(bad.event_id), "reason": bad.reason})
    if not progress.moved:
        return None
    return Head(number=last.number + 1 if last else 1, head_seq=progress.chain.head_seq,
                head_hash=progress.chain.head_hash, records=progress.chain.records,
                previous_head_seq=last.head_seq if last else 0)


def signed_text(head: Head, *, chain_id: object = AUDIT_CHAIN_ID) -> bytes:
    """The exact bytes that are signed: ASCII lines `name=value`, each ending in LF, in this order."""
    lines = [
        SIGNED_TEXT_TAG if head.tree_size is None else SIGNED_TREE_HEAD_TAG,
        f"chain_id={chain_id}",
        f"checkpoint={head.number}",
        f"head_seq={head.head_seq}",
        f"head_hash={head.head_hash}",
        f"records={head.records}",
        f"previous_head_seq={head.previous_head_seq}",
    ]
    if head.tree_size is not None:
        lines += [f"key_id={head.key_id}", f"tree_size={head.tree_size}", f"root_hash={head.root_hash}"]
    return "".join(line + "\n" for line in lines).encode("ascii")


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of sha256 over the raw 32-byte public key."""
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError for anything else."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def sign(private_key: Ed25519PrivateKey, head: Head) -> AuditCheckpointedPayload:
    """A v2 signed tree head when `head` carries the Merkle root, else a v1 checkpoint."""
    signer = key_id(private_key.public_key())
    head = replace(head, key_id=signer)
    signature = private_key.sign(signed_text(head))
    return AuditCheckpointedPayload(
        head_seq=head.head_seq, head_hash=head.head_hash, records=head.records,
        previous_head_seq=head.previous_head_seq, key_id=signer,
        signature=base64.b64encode(signature).decode("ascii"), tree_size=head.tree_size, root_hash=head.root_hash,
    )


def head_of(event: AuditCheckpointed) -> Head:
    p = event.payload
    return Head(number=event.stream_version, head_seq=p.head_seq, head_hash=p.head_hash, records=p.records,
                previous_head_seq=p.previous_head_seq, tree_size=p.tree_size, root_hash=p.root_hash, key_id=p.key_id)


def signature_fault(event: AuditCheckpointed, public_key: Ed25519PublicKey) -> str | None:
    """Why `event` is not a checkpoint signed with `public_key` (Chinese, for inspectors), or None."""
    if event.case_id != AUDIT_CHAIN_ID:
        return f"第 {event.stream_version} 号检查点不属于审计链（case_id {event.case_id}）"
    if event.payload.key_id != key_id(public_key):
        return f"第 {event.stream_version} 号检查点的签名密钥 {event.payload.key_id} 与核验公钥不符"
    try:
        signature = base64.b64decode(event.payload.signature, validate=True)
        public_key.verify(signature, signed_text(head_of(event), chain_id=event.case_id))
    except (InvalidSignature, ValueError):
        return f"第 {event.stream_version} 号检查点签名无效"
    return None


@dataclass(frozen=True)
class Judgement:
    """Checkpoints that verified, in number order, and every problem found (Chinese)."""

    checkpoints: list[AuditCheckpointed]
    problems: list[str]

    @property
    def latest(self) -> AuditCheckpointed | None:
        return self.checkpoints[-1] if self.checkpoints else None


def judge(events: Iterable[AuditCheckpointed], keys: Ed25519PublicKey | Mapping[str, Ed25519PublicKey]) -> Judgement:
    """Every signature, each with the key it names (one pinned key, or a keyring: key_id → key,
    current and retired), then the series: numbers 1..N without gaps, one checkpoint per number,
    each extending the previous one (previous_head_seq, growing head_seq and records)."""
    keyring = keys if isinstance(keys, Mapping) else {key_id(keys): keys}
    problems: list[str] = []
    by_number: dict[int, AuditCheckpointed] = {}
    other_keys: dict[str, int] = {}
    for event in events:
        public_key = keyring.get(event.payload.key_id)
        if public_key is None:
            other_keys[event.payload.key_id] = other_keys.get(event.payload.key_id, 0) + 1
            continue
        if fault := signature_fault(event, public_key):
            problems.append(fault)
            continue
        known = by_number.setdefault(event.stream_version, event)
        if known.payload != event.payload:  # a republished copy is identical; a second version is a fork
            problems.append(f"第 {event.stream_version} 号检查点出现两个不同版本")
    problems += [f"{n} 个检查点由其他密钥 {other} 签名，与核验公钥不符" for other, n in sorted(other_keys.items())]
    ordered = [by_number[n] for n in sorted(by_number)]
    problems += _series_faults(ordered)
    return Judgement(checkpoints=ordered, problems=problems)


def _series_faults(ordered: list[AuditCheckpointed]) -> list[str]:
    faults: list[str] = []
    previous: AuditCheckpointed | None = None
    for expected, event in enumerate(ordered, start=1):
        if event.stream_version != expected:
            last_missing = event.stream_version - 1
            missing = f"{expected}" if last_missing == expected else f"{expected} 至 {last_missing}"
            faults.append(f"检查点编号不连续：缺少第 {missing} 号")
            break
        p = event.payload
        prev_seq, prev_records = (previous.payload.head_seq, previous.payload.records) if previous else (0, 0)
        if p.previous_head_seq != prev_seq or p.head_seq <= prev_seq or p.records <= prev_records:
            faults.append(f"第 {event.stream_version} 号检查点未接续上一个检查点")
        if p.tree_size is not None and p.tree_size != p.head_seq:
            faults.append(f"第 {event.stream_version} 号检查点的树大小与序号不符")
        previous = event
    return faults


# --- key loading: the only I/O here ---

def load_signing_key(path: str | None, *, development_path: Path) -> Ed25519PrivateKey:
    """The PEM private key at `path`; without one, the development key at `development_path`,
    created on first use (atomically, so processes starting together agree on one key)."""
    if path:
        return _private_key(Path(path).read_bytes())
    log.warning("audit checkpoints are signed with a development key; set AUDIT_SIGNING_KEY_FILE",
                extra={"key_file": str(development_path)})
    return _private_key(create_once(development_path, lambda: Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))


def _private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("AUDIT_SIGNING_KEY_FILE must hold an Ed25519 private key (PEM)")
    return key
