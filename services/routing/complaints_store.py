"""Routing's SQL for complaints."""

from __future__ import annotations

from dataclasses import asdict, fields
from uuid import UUID

import asyncpg

from services.routing.complaints import ComplaintState

_COLUMNS = [f.name for f in fields(ComplaintState)]
_INSERT = f"INSERT INTO complaints ({', '.join(_COLUMNS)}) VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})"
_UPSERT = f"{_INSERT} ON CONFLICT (complaint_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}"


async def insert_new(conn: asyncpg.Connection, state: ComplaintState) -> bool:
    """False when routing holds this complaint already (the same registration heard twice)."""
    values = asdict(state)
    done = await conn.fetchval(f"{_INSERT} ON CONFLICT (complaint_id) DO NOTHING RETURNING true",
                               *(values[c] for c in _COLUMNS))
    return bool(done)


async def save(conn: asyncpg.Connection, state: ComplaintState) -> None:
    values = asdict(state)
    await conn.execute(_UPSERT, *(values[c] for c in _COLUMNS))


async def get(conn: asyncpg.Connection, complaint_id: UUID) -> ComplaintState | None:
    row = await conn.fetchrow("SELECT * FROM complaints WHERE complaint_id = $1", complaint_id)
    return ComplaintState(**dict(row)) if row else None


async def lock(conn: asyncpg.Connection, complaint_id: UUID) -> ComplaintState | None:
    row = await conn.fetchrow("SELECT * FROM complaints WHERE complaint_id = $1 FOR UPDATE", complaint_id)
    return ComplaintState(**dict(row)) if row else None


async def list_for_township(conn: asyncpg.Connection, *, township_id: str, limit: int) -> list[ComplaintState]:
    """Open ones first, soonest due first; then the answered, latest answered first."""
    rows = await conn.fetch(
        "SELECT * FROM complaints WHERE township_id = $1"
        " ORDER BY status = 'answered', CASE WHEN status = 'open' THEN answer_due END, answered_at DESC, complaint_no"
        " LIMIT $2", township_id, limit)
    return [ComplaintState(**dict(r)) for r in rows]
