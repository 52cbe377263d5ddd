"""The Merkle tree over the audit log, as RFC 9162 §2.1 defines it (Certificate Transparency).

Pure functions. The tree is never held whole: every hash it needs is the hash of a complete,
aligned subtree, named (level, index) — the 2**level leaves from index * 2**level on — which
the caller fetches (from PostgreSQL, merkle_store) and passes in as a mapping. Planning
functions say which nodes a root or a proof needs, so the store fetches them in one query.

leaf hash = SHA-256(0x00 || leaf data); node hash = SHA-256(0x01 || left || right).
Leaf index = seq - 1; leaf data = the record's hashed text (domain.hashed_fields, canonical JSON, UTF-8).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Node = tuple[int, int]  # (level, index) of a complete aligned subtree
Nodes = Mapping[Node, bytes]
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_LEVEL = 63


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(width: int) -> int:
    """k of RFC 9162: the largest power of two smaller than width (width > 1)."""
    return 1 << ((width - 1).bit_length() - 1)


def pieces(start: int, end: int) -> list[Node]:
    """The complete aligned subtrees that make up leaves [start, end), left to right.

    Every range RFC 9162's recursion visits starts at a multiple of a power of two at least its
    width, so its binary decomposition from the highest bit is aligned."""
    found: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        found.append((level, start >> level))
        start += 1 << level
    return found


def range_hash(start: int, end: int, nodes: Nodes) -> bytes:
    """MTH(D[start:end]): the pieces folded from the right, as the recursion on k does."""
    hashes = [nodes[p] for p in pieces(start, end)]
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1 as leaf ranges, deepest first."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1 as leaf ranges, in proof order."""
    if not 0 < first <= second:
        raise ValueError("consistency needs 0 < first <= second")
    if first == second:
        return []
    ranges: list[tuple[int, int]] = []  # collected top-down, SUBPROOF appends after the recursion
    start, m, n, complete = 0, first, second, True
    while m != n:
        k = _split(n)
        if m <= k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, m, n, complete = start + k, m - k, n - k, False
    if not complete:
        ranges.append((start, start + n))
    return ranges[::-1]


def needed(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {p for start, end in ranges for p in pieces(start, end)}


def inclusion_proof(index: int, size: int, nodes: Nodes) -> list[bytes]:
    return [range_hash(s, e, nodes) for s, e in inclusion_ranges(index, size)]


def consistency_proof(first: int, second: int, nodes: Nodes) -> list[bytes]:
    return [range_hash(s, e, nodes) for s, e in consistency_ranges(first, second)]


def root(size: int, nodes: Nodes) -> bytes:
    return range_hash(0, size, nodes)


# --- appending: which parents a new leaf completes ---

def left_siblings(index: int) -> list[Node]:
    """The nodes to the left that the leaf at `index` completes a parent with, lowest first."""
    found: list[Node] = []
    level, i = 0, index
    while i & 1 and level < MAX_LEVEL:
        found.append((level, i - 1))
        level, i = level + 1, i >> 1
    return found


def appended_nodes(index: int, leaf: bytes, nodes: Nodes) -> list[tuple[int, int, bytes]]:
    """(level, index, hash) of the leaf and of every parent it completes, given its left siblings."""
    made = [(0, index, leaf)]
    current = leaf
    for level, sibling in left_siblings(index):
        current = node_hash(nodes[(level, sibling)], current)
        made.append((level + 1, sibling >> 1, current))
    return made


@dataclass
class RootBuilder:
    """The roots of a log read leaf by leaf, in O(log n) memory: the hashes of the complete
    subtrees so far (a compact range), merged as they pair up."""

    size: int = 0
    stack: list[tuple[int, bytes]] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        level, current = 0, leaf
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            level, current = level + 1, node_hash(left, current)
        self.stack.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        result = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            result = node_hash(left, result)
        return result


# --- verification, RFC 9162 §2.1.3.2 and §2.1.4.2, on hashes alone ---

def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root the audit path leads to, or None when the path cannot belong to (index, size)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    return root_from_inclusion(index, size, leaf, path) == expected_root


def sibling_sides(index: int, size: int) -> list[bool]:
    """For each hash of an inclusion path, whether it is the left operand (for other verifiers' formats)."""
    return [end <= index for _, end in inclusion_ranges(index, size)]


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    if first & (first - 1) == 0:  # an exact power of two: the old root is the first hash
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
