"""The whole export recomputed (ADR 0031): every link of the hash chain, every leaf, and the Merkle
root at each kept head's size, compared with the root that head signed. O(log n) memory: the
export is read line by line, the roots built as a compact range."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from contracts.events import AuditCheckpointed
from services.audit import merkle
from services.audit.domain import GENESIS_HASH


@dataclass(frozen=True)
class Mismatch:
    """Records first_seq..last_seq hold something else than what `head` signed."""

    head: AuditCheckpointed
    first_seq: int
    last_seq: int


@dataclass
class ExportCheck:
    """Folds export lines, in order; `first_bad` is the first record the export itself shows wrong
    (chain), `mismatches` the ranges where roots differ from kept heads."""

    heads: list[AuditCheckpointed]
    records: int = 0
    previous_hash: str = GENESIS_HASH
    first_bad: tuple[int, str] | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    matched: int = 0  # the size of the last kept head whose root matched
    builder: merkle.RootBuilder = field(default_factory=merkle.RootBuilder)

    def __post_init__(self) -> None:
        self.heads = sorted(self.heads, key=lambda h: h.payload.tree_size or 0)
        self._next = 0

    def feed(self, line: str) -> tuple[UUID, str] | None:
        """One export line; returns (event_id, sha256 of its envelope) for reconciliation, None if unreadable."""
        expected = self.records + 1
        try:
            row = json.loads(line)
            seq, text, hash_, prev = int(row["seq"]), str(row["hashed_text"]), str(row["hash"]), str(row["prev_hash"])
            fields = json.loads(text)
            event_id, envelope = UUID(str(row["event_id"])), str(fields["envelope"])
        except (ValueError, KeyError, TypeError):
            self._bad(expected, f"第 {expected} 行无法读取")
            return None
        if seq != expected or fields.get("seq") != seq:
            self._bad(expected, f"序号 {expected} 的记录缺失或错位（读到序号 {seq}）")
        elif prev != self.previous_hash:
            self._bad(seq, f"序号 {seq} 的记录与前一条不衔接（prev_hash 不符）：前面的记录被改动、删除或替换")
        elif hashlib.sha256((prev + text).encode()).hexdigest() != hash_:
            self._bad(seq, f"序号 {seq} 的记录内容与其哈希不符：该记录已被改动")
        self.records, self.previous_hash = expected, hash_
        self.builder.append(merkle.leaf_hash(text.encode()))
        self._compare_heads()
        return event_id, hashlib.sha256(envelope.encode()).hexdigest()

    def _bad(self, seq: int, reason: str) -> None:
        if self.first_bad is None:
            self.first_bad = (seq, reason)

    def _compare_heads(self) -> None:
        while self._next < len(self.heads) and self.heads[self._next].payload.tree_size == self.records:
            head = self.heads[self._next]
            if self.builder.root().hex() == head.payload.root_hash and self.previous_hash == head.payload.head_hash:
                self.matched = self.records
            else:
                self.mismatches.append(Mismatch(head=head, first_seq=self.matched + 1, last_seq=self.records))
            self._next += 1

    def missing_tail(self) -> AuditCheckpointed | None:
        """The largest kept head beyond the end of the export: records it signed were deleted."""
        beyond = [h for h in self.heads if (h.payload.tree_size or 0) > self.records]
        return beyond[-1] if beyond else None


def read_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line


def lines_between(lines: Iterable[str], first_seq: int, last_seq: int) -> Iterator[tuple[int, UUID, bytes]]:
    """(seq, event_id, leaf data) of the export's lines first_seq..last_seq (by position)."""
    for position, line in enumerate(lines, start=1):
        if position > last_seq:
            return
        if position >= first_seq:
            row = json.loads(line)
            yield position, UUID(str(row["event_id"])), str(row["hashed_text"]).encode()
