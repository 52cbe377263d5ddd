"""The Merkle tree's SQL: append a record's leaf and the parents it completes, catch up on records
logged before the tree existed, and fetch what a root or a proof needs in one query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from uuid import UUID

import asyncpg

from contracts.events import AUDIT_CHAIN_ID, AuditCheckpointed
from services.audit import checkpoints, merkle, store
from services.audit.domain import AuditRecord, canonical_json, hashed_fields

CATCH_UP_CHUNK = 2000


class TreeDiverged(RuntimeError):
    """The tree already holds a leaf for this record number: records were deleted and the number reused."""


def leaf_data(record: AuditRecord) -> bytes:
    """What a leaf hashes: the record's hashed text, exactly as the chain hashes it (after prev_hash)."""
    return canonical_json(hashed_fields(record)).encode()


def record_leaf(record: AuditRecord) -> bytes:
    return merkle.leaf_hash(leaf_data(record))


async def size(conn: asyncpg.Connection) -> int:
    """Leaves in the tree: one past the highest leaf (the PK's backward scan, not a count)."""
    top = await conn.fetchval("SELECT idx FROM merkle_nodes WHERE level = 0 ORDER BY idx DESC LIMIT 1")
    return 0 if top is None else top + 1


async def fetch(conn: asyncpg.Connection, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The hashes of `wanted` nodes, in one query; a node that is not stored is missing from the answer."""
    pairs = sorted(set(wanted))
    if not pairs:
        return {}
    rows = await conn.fetch(
        "SELECT n.level, n.idx, n.hash FROM unnest($1::smallint[], $2::bigint[]) AS w(level, idx)"
        " JOIN merkle_nodes n USING (level, idx)", [p[0] for p in pairs], [p[1] for p in pairs])
    return {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows}


async def nodes_for(conn: asyncpg.Connection, ranges: Iterable[tuple[int, int]]) -> dict[merkle.Node, bytes]:
    wanted = merkle.needed(ranges)
    found = await fetch(conn, wanted)
    if missing := wanted - found.keys():
        raise LookupError(f"merkle nodes missing: {sorted(missing)[:5]}")
    return found


async def root(conn: asyncpg.Connection, tree_size: int) -> bytes:
    return merkle.root(tree_size, await nodes_for(conn, [(0, tree_size)]))


async def inclusion_proof(conn: asyncpg.Connection, index: int, tree_size: int) -> list[bytes]:
    return merkle.inclusion_proof(index, tree_size, await nodes_for(conn, merkle.inclusion_ranges(index, tree_size)))


async def consistency_proof(conn: asyncpg.Connection, first: int, second: int) -> list[bytes]:
    return merkle.consistency_proof(first, second, await nodes_for(conn, merkle.consistency_ranges(first, second)))


async def leaf_hashes(conn: asyncpg.Connection, first_index: int, last_index: int) -> dict[int, bytes]:
    rows = await conn.fetch("SELECT idx, hash FROM merkle_nodes WHERE level = 0 AND idx BETWEEN $1 AND $2",
                            first_index, last_index)
    return {r["idx"]: bytes(r["hash"]) for r in rows}


async def _insert(conn: asyncpg.Connection, made: list[tuple[int, int, bytes]]) -> None:
    try:
        await conn.execute("INSERT INTO merkle_nodes (level, idx, hash)"
                           " SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
                           [m[0] for m in made], [m[1] for m in made], [m[2] for m in made])
    except asyncpg.UniqueViolationError as exc:
        raise TreeDiverged(f"merkle leaf {made[0][1]} exists already: record number {made[0][1] + 1} reused") from exc


async def append_leaves(conn: asyncpg.Connection, records: list[AuditRecord], leaves: list[bytes] | None = None) -> None:
    """Leaves for consecutive records (`leaves`, when the caller has them already), and every parent
    they complete, in one insert."""
    if not records:
        return
    first = records[0].seq - 1
    made: dict[merkle.Node, bytes] = {}
    wanted = {s for i in range(first, first + len(records)) for s in merkle.left_siblings(i)}
    known = await fetch(conn, {n for n in wanted if n[1] < first >> n[0]})
    nodes = dict(known)  # one mapping grown in place: a batch of n leaves stays O(n log n)
    for offset, record in enumerate(records):
        leaf = leaves[offset] if leaves is not None else record_leaf(record)
        for level, idx, h in merkle.appended_nodes(first + offset, leaf, nodes):
            made[(level, idx)] = nodes[(level, idx)] = h
    await _insert(conn, [(level, idx, h) for (level, idx), h in made.items()])


async def append_batch(conn: asyncpg.Connection, records: list[AuditRecord], leaves: list[bytes]) -> None:
    """append_record for consecutive records, under the append lock: records the tree does not hold
    yet are added first; a leaf that exists already fails loudly (TreeDiverged)."""
    held, first = await size(conn), records[0].seq - 1
    if held < first:
        await _catch_up_locked(conn, held, first)
    await append_leaves(conn, records, leaves)


async def append_record(conn: asyncpg.Connection, record: AuditRecord) -> None:
    """Called by commands.record_event under the append lock, in its transaction: the record's leaf
    and completed parents. Records the tree does not hold yet (logged before it) are added first.

    One query reads the tree's size and the new leaf's left siblings, one inserts: two round trips."""
    index = record.seq - 1
    wanted = merkle.left_siblings(index)
    rows = await conn.fetch(
        "SELECT n.level, n.idx, n.hash FROM unnest($1::smallint[], $2::bigint[]) AS w(level, idx)"
        " JOIN merkle_nodes n USING (level, idx)"
        " UNION ALL (SELECT -1, idx, NULL FROM merkle_nodes WHERE level = 0 ORDER BY idx DESC LIMIT 1)",
        [w[0] for w in wanted], [w[1] for w in wanted])
    held = next((r["idx"] + 1 for r in rows if r["level"] == -1), 0)
    if held < index:
        await _catch_up_locked(conn, held, index)
        await append_leaves(conn, [record])
        return
    siblings = {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows if r["level"] >= 0}
    if held > index or len(siblings) < len(wanted):
        await append_leaves(conn, [record])  # fails loudly: the leaf exists, or a sibling is missing
        return
    await _insert(conn, merkle.appended_nodes(index, record_leaf(record), siblings))


async def _catch_up_locked(conn: asyncpg.Connection, held: int, upto_seq: int) -> int:
    added = 0
    async for records in store.record_chunks(conn, size=CATCH_UP_CHUNK, after_seq=held):
        records = [r for r in records if r.seq <= upto_seq]
        if records:
            await append_leaves(conn, records)
            added += len(records)
    return added


async def catch_up(pool: asyncpg.Pool) -> int:
    """At start: leaves for every record logged before the tree existed (the migration's backfill)."""
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_log(conn)
        head_seq, _ = await store.head(conn)
        held = await size(conn)
        return await _catch_up_locked(conn, held, head_seq) if held < head_seq else 0


# --- what the checkpointer checks before it signs a tree head ---

async def check_leaves(conn: asyncpg.Connection, records: list[AuditRecord]) -> None:
    """Refuses when a stored leaf is not the record's: the records or the tree were changed."""
    if not records:
        return
    stored = await leaf_hashes(conn, records[0].seq - 1, records[-1].seq - 1)
    for record in records:
        if stored.get(record.seq - 1) != record_leaf(record):
            raise checkpoints.CheckpointRefused(details={"seq": record.seq, "reason": "leaf_mismatch"})


async def check_tree(conn: asyncpg.Connection, last: checkpoints.Head | None, head_seq: int) -> None:
    """Refuses unless the tree extends the last signed head: it holds exactly head_seq leaves (more:
    records it had stored were deleted, and a new record would reuse their numbers), and the last
    signed root is still the root at its size. Checked even when there is nothing new to sign."""
    held = await size(conn)
    if held != head_seq:
        raise checkpoints.CheckpointRefused(details={"seq": head_seq, "tree_size": held,
                                                     "reason": "records_lost" if held > head_seq else "tree_behind"})
    if last and last.tree_size is not None and (await root(conn, last.tree_size)).hex() != last.root_hash:
        raise checkpoints.CheckpointRefused(details={"seq": last.head_seq, "reason": "root_mismatch"})


async def with_root(conn: asyncpg.Connection, head: checkpoints.Head) -> checkpoints.Head:
    """`head` as a signed tree head: the Merkle root of records 1..head_seq."""
    return replace(head, tree_size=head.head_seq, root_hash=(await root(conn, head.head_seq)).hex())


# --- the signed heads (audit's own AuditCheckpointed events) and records by event ---

async def signed_heads(conn: asyncpg.Connection, *, after: int, limit: int) -> list[AuditCheckpointed]:
    rows = await conn.fetch("SELECT body FROM events WHERE case_id = $1 AND stream_version > $2"
                            " ORDER BY stream_version LIMIT $3", AUDIT_CHAIN_ID, after, limit)
    return [AuditCheckpointed.model_validate_json(r["body"]) for r in rows]


async def signed_head(conn: asyncpg.Connection, number: int | None) -> AuditCheckpointed | None:
    """Checkpoint `number`, or the latest when None."""
    body = await conn.fetchval(
        "SELECT body FROM events WHERE case_id = $1 AND ($2::int IS NULL OR stream_version = $2)"
        " ORDER BY stream_version DESC LIMIT 1", AUDIT_CHAIN_ID, number)
    return AuditCheckpointed.model_validate_json(body) if body else None


async def record_of(conn: asyncpg.Connection, event_id: UUID) -> AuditRecord | None:
    row = await conn.fetchrow(f"SELECT {store._COLUMNS} FROM audit_log WHERE event_id = $1", event_id)
    return AuditRecord(**dict(row)) if row else None
