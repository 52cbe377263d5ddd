"""Audit's SQL: appending to the chained log, reading a case, streaming the chain, the feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg

from contracts.events import AUDIT_CHAIN_ID, AuditCheckpointed
from services.audit.domain import GENESIS_HASH, AuditRecord

_COLUMNS = ("seq, event_id, topic, event_type, case_id, township_id, source, stream_version, occurred_at,"
            " recorded_at, trace_id, envelope, prev_hash, hash")


def _record(row: asyncpg.Record) -> AuditRecord:
    return AuditRecord(**dict(row))


async def lock_log(conn: asyncpg.Connection) -> None:
    """Serialise appends until the transaction ends, so the chain stays linear and seq order is commit order.

    An advisory lock rather than LOCK TABLE, which needs UPDATE, DELETE, TRUNCATE or MAINTAIN
    on audit_log: rights the role audit runs as must not have. Every append takes it. Keyed by
    schema, so a rebuild into another schema (services.audit.rebuild) does not hold up the live log.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('audit_log:append:' || current_schema()))")


async def head(conn: asyncpg.Connection) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return (row["seq"], row["hash"]) if row else (0, GENESIS_HASH)


async def hash_at(conn: asyncpg.Connection, seq: int) -> str | None:
    return await conn.fetchval("SELECT hash FROM audit_log WHERE seq = $1", seq)


async def lock_checkpoints(conn: asyncpg.Connection) -> None:
    """One checkpointer at a time, across instances: checkpoints are audit's own events."""
    await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")


async def last_checkpoint(conn: asyncpg.Connection) -> AuditCheckpointed | None:
    body = await conn.fetchval("SELECT body FROM events WHERE case_id = $1 ORDER BY stream_version DESC LIMIT 1",
                               AUDIT_CHAIN_ID)
    return AuditCheckpointed.model_validate_json(body) if body else None


async def insert_record(conn: asyncpg.Connection, record: AuditRecord) -> bool:
    """False when the event is already in the log (a redelivery that got past the inbox)."""
    inserted = await conn.fetchval(
        f"INSERT INTO audit_log ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING true",
        record.seq, record.event_id, record.topic, record.event_type, record.case_id, record.township_id,
        record.source, record.stream_version, record.occurred_at, record.recorded_at, record.trace_id,
        record.envelope, record.prev_hash, record.hash,
    )
    return bool(inserted)


async def case_records(conn: asyncpg.Connection, case_id: UUID) -> list[AuditRecord]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM audit_log WHERE case_id = $1 ORDER BY occurred_at, seq", case_id)
    return [_record(r) for r in rows]


async def record_chunks(conn: asyncpg.Connection, *, size: int, after_seq: int = 0) -> AsyncIterator[list[AuditRecord]]:
    """The log after `after_seq` in seq order, `size` records at a time (server-side cursor; needs a transaction)."""
    cursor = await conn.cursor(f"SELECT {_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq", after_seq)
    while rows := await cursor.fetch(size):
        yield [_record(r) for r in rows]


async def feed(conn: asyncpg.Connection, *, after_seq: int, limit: int) -> list[AuditRecord]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", after_seq, limit)
    return [_record(r) for r in rows]
