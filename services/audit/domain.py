"""Audit's pure rules: canonical records, the hash chain and stream_version continuity."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from contracts.envelope import Envelope
from contracts.errors import DomainError

GENESIS_HASH = "0" * 64  # prev_hash of the first record
MAX_MISSING = 1000  # a forged huge stream_version must not make a list of a billion numbers

BreakReason = Literal["hash_mismatch", "prev_hash_mismatch", "seq_gap"]
CheckpointProblem = Literal["tail_deleted", "record_missing", "hash_mismatch"]
CHECKPOINT_MESSAGES: dict[CheckpointProblem | None, str] = {
    None: "审计日志与检查点一致",
    "tail_deleted": "检查点序号超出当前日志末尾：检查点之后的记录已被删除",
    "record_missing": "检查点所指的记录不存在：记录已被删除",
    "hash_mismatch": "检查点哈希与当前记录不符：审计日志已被改写",
}


class HistoryNotFound(DomainError):
    status, code, message = 404, "CASE_HISTORY_NOT_FOUND", "未找到该办件的审计记录"


@dataclass(frozen=True)
class AuditRecord:
    """One row of the audit log; every field but `hash` goes into `hash`."""

    seq: int
    event_id: UUID
    topic: str
    event_type: str
    case_id: UUID
    township_id: str
    source: str
    stream_version: int
    occurred_at: datetime
    recorded_at: datetime
    trace_id: str | None
    envelope: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: UUID
    reason: BreakReason


@dataclass(frozen=True)
class ChainState:
    """Verification so far, so a long chain can be checked chunk by chunk: records read,
    the last record's seq and hash, and the first break found (later ones add nothing)."""

    records: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad: ChainBreak | None = None


@dataclass(frozen=True)
class CheckpointCheck:
    """The log held against a checkpoint an inspector kept: is the record at `seq` still `expected_hash`?"""

    seq: int
    expected_hash: str
    found_hash: str | None
    problem: CheckpointProblem | None

    @property
    def matches(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        return CHECKPOINT_MESSAGES[self.problem]


@dataclass(frozen=True)
class StreamGap:
    case_id: UUID
    source: str
    missing: list[int]


def canonical_json(value: Any) -> str:
    """One text per value: the bytes that are hashed must not depend on dict order or escaping."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def audit_envelope(event: Envelope) -> str:
    """The event as stored and hashed: its canonical JSON. No event carries a phone number (a guard
    test keeps it so), so the log holds none and needs no erasure."""
    return canonical_json(event.model_dump(mode="json"))


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def hashed_fields(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq, "event_id": str(record.event_id), "topic": record.topic, "event_type": record.event_type,
        "case_id": str(record.case_id), "township_id": record.township_id, "source": record.source,
        "stream_version": record.stream_version, "occurred_at": _instant(record.occurred_at),
        "recorded_at": _instant(record.recorded_at), "trace_id": record.trace_id, "envelope": record.envelope,
    }


def record_hash(record: AuditRecord) -> str:
    """sha256 over the previous record's hash followed by this record's canonical fields."""
    return hashlib.sha256((record.prev_hash + canonical_json(hashed_fields(record))).encode()).hexdigest()


def new_record(event: Envelope, *, topic: str, seq: int, prev_hash: str, recorded_at: datetime,
               trace_id: str | None) -> AuditRecord:
    return chained(event, topic=topic, seq=seq, prev_hash=prev_hash, recorded_at=recorded_at, trace_id=trace_id)[0]


def chained(event: Envelope, *, topic: str, seq: int, prev_hash: str, recorded_at: datetime,
            trace_id: str | None, dumped: dict[str, Any] | None = None) -> tuple[AuditRecord, str]:
    """The record and its hashed text (what the hash covers after prev_hash, and what its Merkle leaf
    hashes), made once: a batch of thousands spends most of its time here. `dumped`: the event's
    model_dump(mode="json"), when the caller keeps it."""
    fields: dict[str, Any] = {
        "seq": seq, "event_id": event.event_id, "topic": topic, "event_type": event.event_type,
        "case_id": event.case_id, "township_id": event.township_id, "source": event.source,
        "stream_version": event.stream_version, "occurred_at": event.occurred_at.astimezone(UTC),
        "recorded_at": recorded_at.astimezone(UTC), "trace_id": trace_id,
        "envelope": audit_envelope(event) if dumped is None else canonical_json(dumped),
        "prev_hash": prev_hash}
    text = canonical_json(hashed_fields(AuditRecord(**fields, hash="")))
    return AuditRecord(**fields, hash=hashlib.sha256((prev_hash + text).encode()).hexdigest()), text


def link_fault(record: AuditRecord, *, prev_seq: int, prev_hash: str) -> BreakReason | None:
    """Why `record` does not follow the record (prev_seq, prev_hash), or None.

    A hole in seq is a deleted row (seq is assigned without holes); a wrong prev_hash is a
    deleted, reordered or rewritten predecessor; a wrong hash is this row changed.
    """
    if record.seq != prev_seq + 1:
        return "seq_gap"
    if record.prev_hash != prev_hash:
        return "prev_hash_mismatch"
    if record_hash(record) != record.hash:
        return "hash_mismatch"
    return None


def verify_chain(records: Iterable[AuditRecord], state: ChainState = ChainState()) -> ChainState:
    """Fold records, in seq order, into the verification state; feed chunks one after another."""
    count, seq, head, first_bad = state.records, state.head_seq, state.head_hash, state.first_bad
    for record in records:
        if first_bad is None and (reason := link_fault(record, prev_seq=seq, prev_hash=head)):
            first_bad = ChainBreak(seq=record.seq, event_id=record.event_id, reason=reason)
        count, seq, head = count + 1, record.seq, record.hash
    return ChainState(records=count, head_seq=seq, head_hash=head, first_bad=first_bad)


def first_bad_record(records: Iterable[AuditRecord]) -> ChainBreak | None:
    return verify_chain(records).first_bad


def check_checkpoint(*, seq: int, expected_hash: str, found_hash: str | None, head_seq: int) -> CheckpointCheck:
    """A checkpoint beyond the head is a deleted tail, which the chain alone cannot show."""
    problem: CheckpointProblem | None = None
    if seq > head_seq:
        problem = "tail_deleted"
    elif found_hash is None:
        problem = "record_missing"
    elif found_hash != expected_hash:
        problem = "hash_mismatch"
    return CheckpointCheck(seq=seq, expected_hash=expected_hash, found_hash=found_hash, problem=problem)


def missing_versions(seen: Iterable[int], *, limit: int = MAX_MISSING) -> list[int]:
    """Versions below the highest seen that never arrived, each a lost event (at most `limit`).

    Arrival order does not matter: one source's events of a case come on several topics,
    so version 3 may arrive before version 2.
    """
    missing: list[int] = []
    expected = 1
    for version in sorted(set(seen)):
        while expected < version and len(missing) < limit:
            missing.append(expected)
            expected += 1
        if len(missing) >= limit:
            break
        expected = version + 1
    return missing


def stream_gaps(versions: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """Per source, the missing versions of one case's streams; complete sources are left out."""
    by_source: dict[str, list[int]] = {}
    for source, version in versions:
        by_source.setdefault(source, []).append(version)
    gaps = {source: missing_versions(seen) for source, seen in sorted(by_source.items())}
    return {source: missing for source, missing in gaps.items() if missing}
