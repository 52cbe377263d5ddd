"""Appending a batch of events to the chain in the caller's transaction, with a handful of statements
(ADR 40): the same rows as commands.record_event on each event in order, computed in Python where the
single append asks PostgreSQL event by event.

Under the append lock nobody else appends, so what the batch needs of the log is read once up front
(the head, which event_ids are logged already, each stream's highest version, the tree's size and
left siblings), and everything later events of the batch see of earlier ones is carried in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from contracts.envelope import Envelope
from services.audit import domain, gaps, hall_figures_store, merkle, merkle_store, read_model_store, store
from services.audit import read_model as rm

COPY_FROM = 50  # rows from which COPY beats one multi-row INSERT
_LOG_COLUMNS = tuple(c.strip() for c in store._COLUMNS.split(","))
_LOG_INSERT = (f"INSERT INTO audit_log ({store._COLUMNS}) SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[],"
               " $4::text[], $5::uuid[], $6::text[], $7::text[], $8::int[], $9::timestamptz[], $10::timestamptz[],"
               " $11::text[], $12::text[], $13::text[], $14::text[])")


@dataclass(frozen=True)
class Item:
    """An event to append and the trace id its record carries (the producer's, from the traceparent)."""

    event: Envelope
    trace_id: str | None


@dataclass(frozen=True)
class GapWrites:
    opened: list[tuple[UUID, str, int]]  # (case_id, source, version)
    closed: list[tuple[UUID, str, int]]


@dataclass(frozen=True)
class Chained:
    records: list[domain.AuditRecord]
    leaves: list[bytes]  # each record's Merkle leaf hash
    envelopes: list[dict[str, Any]]  # each record's envelope as JSON values, for the read model's fold


def chain(items: Sequence[Item], fresh: Sequence[bool], *, seq: int, prev_hash: str, now: datetime) -> Chained:
    """The records of the fresh items, chained after (seq, prev_hash), as record_event makes them one by
    one, with their Merkle leaves (from the same hashed text) and dumped envelopes, each made once."""
    made = Chained(records=[], leaves=[], envelopes=[])
    for item, is_fresh in zip(items, fresh, strict=True):
        if is_fresh:
            seq += 1
            dumped = item.event.model_dump(mode="json")
            record, text = domain.chained(item.event, topic=type(item.event).TOPIC, seq=seq, prev_hash=prev_hash,
                                          recorded_at=now, trace_id=item.trace_id, dumped=dumped)
            made.records.append(record)
            made.leaves.append(merkle.leaf_hash(text.encode()))
            made.envelopes.append(dumped)
            prev_hash = record.hash
    return made


def freshness(event_ids: Sequence[UUID], logged: set[UUID]) -> list[bool]:
    """Whether each event is new: not in the log, nor earlier in the batch (a redelivery within it)."""
    seen = set(logged)
    fresh = []
    for event_id in event_ids:
        fresh.append(event_id not in seen)
        seen.add(event_id)
    return fresh


def gap_writes(records: Sequence[domain.AuditRecord], highest: dict[tuple[UUID, str], int]) -> GapWrites:
    """gaps.track's changes for each record in order, each seeing the versions the batch logged before it.

    Opening all first and closing after is what track does in order: a version is opened only above
    the stream's highest and closed only at or below it, and the highest only grows."""
    highest = dict(highest)
    opened: list[tuple[UUID, str, int]] = []
    closed: list[tuple[UUID, str, int]] = []
    for r in records:
        key = (r.case_id, r.source)
        change = gaps.gap_change(highest=highest.get(key, 0), version=r.stream_version)
        opened += [(r.case_id, r.source, v) for v in change.opened]
        if change.closes is not None:
            closed.append((r.case_id, r.source, change.closes))
        highest[key] = max(highest.get(key, 0), r.stream_version)
    return GapWrites(opened=opened, closed=closed)


async def record_events(conn: asyncpg.Connection, items: Sequence[Item], *, now: datetime) -> list[bool]:
    """Append `items` in order inside the caller's transaction; for each, False when its event_id was
    already logged (before or earlier in the batch), exactly as record_event answers."""
    if not items:
        return []
    await store.lock_log(conn)
    seq, prev_hash = await store.head(conn)
    ids = [i.event.event_id for i in items]
    logged = await conn.fetch("SELECT event_id FROM audit_log WHERE event_id = ANY($1::uuid[])", ids)
    fresh = freshness(ids, {r["event_id"] for r in logged})
    made = chain(items, fresh, seq=seq, prev_hash=prev_hash, now=now)
    records = made.records
    if not records:
        return fresh
    highest = await _highest_versions(conn, {(r.case_id, r.source) for r in records})
    await _insert_records(conn, records)
    await merkle_store.append_batch(conn, records, made.leaves)
    await _write_gaps(conn, gap_writes(records, highest), now=now)
    await _follow(conn, made)
    await hall_figures_store.project_many(conn, [i.event for i, f in zip(items, fresh, strict=True) if f])
    return fresh


async def _highest_versions(conn: asyncpg.Connection, streams: set[tuple[UUID, str]]) -> dict[tuple[UUID, str], int]:
    pairs = sorted(streams, key=lambda s: (str(s[0]), s[1]))
    rows = await conn.fetch(
        "SELECT s.case_id, s.source, (SELECT max(a.stream_version) FROM audit_log a"
        " WHERE a.case_id = s.case_id AND a.source = s.source) AS top"
        " FROM unnest($1::uuid[], $2::text[]) AS s(case_id, source)", [p[0] for p in pairs], [p[1] for p in pairs])
    return {(r["case_id"], r["source"]): r["top"] for r in rows if r["top"] is not None}


async def _insert_records(conn: asyncpg.Connection, records: list[domain.AuditRecord]) -> None:
    """No ON CONFLICT: under the lock the batch's ids were checked, so a conflict is a bug and must fail."""
    rows = [tuple(getattr(r, c) for c in _LOG_COLUMNS) for r in records]
    if len(rows) >= COPY_FROM:  # COPY needs only INSERT, which audit's role has
        await conn.copy_records_to_table("audit_log", columns=_LOG_COLUMNS, records=rows)
    else:
        await conn.execute(_LOG_INSERT, *(list(column) for column in zip(*rows, strict=True)))


async def _write_gaps(conn: asyncpg.Connection, writes: GapWrites, *, now: datetime) -> None:
    if writes.opened:
        await conn.execute(
            "INSERT INTO stream_gaps (case_id, source, version, detected_at)"
            " SELECT c, s, v, $4 FROM unnest($1::uuid[], $2::text[], $3::int[]) AS g(c, s, v) ON CONFLICT DO NOTHING",
            *(list(column) for column in zip(*writes.opened, strict=True)), now)
    if writes.closed:
        await conn.execute(
            "UPDATE stream_gaps g SET closed_at = $4 FROM unnest($1::uuid[], $2::text[], $3::int[]) AS c(c, s, v)"
            " WHERE g.case_id = c.c AND g.source = c.s AND g.version = c.v AND g.closed_at IS NULL",
            *(list(column) for column in zip(*writes.closed, strict=True)), now)


async def _follow(conn: asyncpg.Connection, made: Chained) -> None:
    """read_model_store.follow for each record: all folded when the model is at the head, none otherwise."""
    records = made.records
    moved = await conn.fetchval("UPDATE audit_read_model_state SET folded_seq = $1"
                                " WHERE id = 1 AND folded_seq = $2 RETURNING true", records[-1].seq, records[0].seq - 1)
    if moved:
        await read_model_store.fold(conn, [rm.logged_event(r, e) for r, e in zip(records, made.envelopes, strict=True)])
