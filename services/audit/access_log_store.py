"""SQL over the chained access record: the AuditQueried rows of audit_log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from services.audit.domain import AuditRecord
from services.audit.store import _COLUMNS, _record


async def queries(conn: asyncpg.Connection, *, viewer: str | None, case_id: UUID | None, start: datetime | None,
                  end: datetime | None, before_seq: int | None, limit: int) -> list[AuditRecord]:
    """Newest first; the envelope is the chained text, read as JSON only to filter."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM audit_log WHERE event_type = 'AuditQueried'"
        " AND ($1::text IS NULL OR (envelope::jsonb) -> 'actor' ->> 'id' = $1)"
        " AND ($2::text IS NULL OR (envelope::jsonb) -> 'payload' -> 'case_ids' ? $2)"
        " AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)"
        " AND ($5::bigint IS NULL OR seq < $5)"
        " ORDER BY seq DESC LIMIT $6",
        viewer, str(case_id) if case_id else None, start, end, before_seq, limit)
    return [_record(r) for r in rows]
