"""SQL of the accountability ledger: evidence and cases in the log, Idempotency-Keys, the chained entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.audit.domain import AuditRecord
from services.audit.store import _COLUMNS, _record


async def existing_events(conn: asyncpg.Connection, event_ids: Sequence[UUID]) -> set[UUID]:
    rows = await conn.fetch("SELECT event_id FROM audit_log WHERE event_id = ANY($1::uuid[])", list(event_ids))
    return {r["event_id"] for r in rows}


async def case_townships(conn: asyncpg.Connection, case_id: UUID) -> set[str]:
    rows = await conn.fetch("SELECT DISTINCT township_id FROM audit_log WHERE case_id = $1", case_id)
    return {r["township_id"] for r in rows}


async def find_request(conn: asyncpg.Connection, *, actor_id: str, key: str) -> asyncpg.Record | None:
    """A concurrent resend waits on the key's lock for the first to commit, then finds its entry."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"accountability:{len(actor_id)}:{actor_id}:{key}")
    return await conn.fetchrow("SELECT request_hash, event_id FROM accountability_requests"
                               " WHERE actor_id = $1 AND idempotency_key = $2", actor_id, key)


async def remember_request(conn: asyncpg.Connection, *, actor_id: str, key: str, request_hash: str, event_id: UUID,
                           at: datetime) -> None:
    await conn.execute("INSERT INTO accountability_requests (actor_id, idempotency_key, request_hash, event_id,"
                       " created_at) VALUES ($1, $2, $3, $4, $5)", actor_id, key, request_hash, event_id, at)


async def event_of(conn: asyncpg.Connection, event_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT event_id, case_id, stream_version FROM events WHERE event_id = $1", event_id)
    return dict(row)


async def entries(conn: asyncpg.Connection, *, township_id: str | None, staff_id: str | None,
                  first_day: date | None, last_day: date | None, before_seq: int | None,
                  limit: int) -> list[AuditRecord]:
    """The chained entries, newest first; the period is the decision's date."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM audit_log WHERE event_type = 'AccountabilityRecorded'"
        " AND ($1::text IS NULL OR township_id = $1)"
        " AND ($2::text IS NULL OR (envelope::jsonb) -> 'payload' ->> 'staff_id' = $2)"
        " AND ($3::date IS NULL OR ((envelope::jsonb) -> 'payload' ->> 'decided_on')::date >= $3)"
        " AND ($4::date IS NULL OR ((envelope::jsonb) -> 'payload' ->> 'decided_on')::date <= $4)"
        " AND ($5::bigint IS NULL OR seq < $5)"
        " ORDER BY seq DESC LIMIT $6",
        township_id, staff_id, first_day, last_day, before_seq, limit)
    return [_record(r) for r in rows]
