"""Intake's SQL: case numbers, contacts, idempotency keys and the cases read model (the catalogue's is in
catalogue_store, the projection of events in case_view)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from services.intake.domain import CaseProgress


async def township_prefix(conn: asyncpg.Connection, township_id: str) -> str | None:
    return await conn.fetchval("SELECT case_prefix FROM townships WHERE township_id = $1", township_id)


async def next_case_no(conn: asyncpg.Connection, *, township_id: str, prefix: str, day: date) -> str:
    number = await conn.fetchval(
        "INSERT INTO case_counters (township_id, day, last_no) VALUES ($1, $2, 1)"
        " ON CONFLICT (township_id, day) DO UPDATE SET last_no = case_counters.last_no + 1 RETURNING last_no",
        township_id, day,
    )
    return f"{prefix}-{day:%Y%m%d}-{number:04d}"


async def insert_contact(conn: asyncpg.Connection, *, case_id: UUID, township_id: str, phone: str | None,
                         at: datetime, agent_id: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO case_contacts (case_id, township_id, phone, version, recorded_at, agent_id)"
        " VALUES ($1, $2, $3, 1, $4, $5)", case_id, township_id, phone, at, agent_id)


async def lock_contact_erased(conn: asyncpg.Connection, case_id: UUID) -> bool | None:
    """Whether the case's contact is erased already; None when intake holds no contact for it."""
    return await conn.fetchval("SELECT erased_at IS NOT NULL FROM case_contacts WHERE case_id = $1 FOR UPDATE", case_id)


async def erase_contact(conn: asyncpg.Connection, case_id: UUID, *, at: datetime) -> None:
    await conn.execute(
        "UPDATE case_contacts SET phone = NULL, agent_id = NULL, erased_at = $2, version = version + 1, recorded_at = $2"
        " WHERE case_id = $1", case_id, at)


async def get_case(conn: asyncpg.Connection, case_id: UUID) -> dict | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    return dict(row) if row else None


async def lock_case_row(conn: asyncpg.Connection, case_id: UUID) -> asyncpg.Record | None:
    """The case's read-model row, locked: every command on a case holds it, so they run one at a time."""
    return await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1 FOR UPDATE", case_id)


async def claim_lapsed_review(conn: asyncpg.Connection, now: datetime) -> asyncpg.Record | None:
    """One case whose materials await review past their 5-working-day notice period, its row locked."""
    return await conn.fetchrow(
        "SELECT * FROM cases WHERE status = 'received' AND notice_due < $1 ORDER BY notice_due"
        " LIMIT 1 FOR UPDATE SKIP LOCKED", now)


async def find_idempotent(conn: asyncpg.Connection, *, principal: str, key: str) -> asyncpg.Record | None:
    """The case an earlier request with this key made; a transaction lock on the key makes a
    concurrent resend wait for the first to commit, then find its case."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"idempotency:{len(principal)}:{principal}:{key}")
    return await conn.fetchrow("SELECT request_hash, case_id FROM idempotency_keys WHERE principal = $1 AND key = $2",
                               principal, key)


async def remember_idempotent(conn: asyncpg.Connection, *, principal: str, key: str, request_hash: str,
                              case_id: UUID, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (principal, key, request_hash, case_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        principal, key, request_hash, case_id, at)


async def lock_progress(conn: asyncpg.Connection, case_id: UUID) -> CaseProgress | None:
    row = await conn.fetchrow(
        "SELECT status, department_code, department_name, overdue, result, completed_at, routing_version,"
        " promised_deadline, deadline_provisional, clock_paused_reason, clock_paused_note, clock_paused_at FROM cases"
        " WHERE case_id = $1 FOR UPDATE", case_id)
    return CaseProgress(**dict(row)) if row else None


async def save_progress(conn: asyncpg.Connection, case_id: UUID, progress: CaseProgress) -> None:
    await conn.execute(
        "UPDATE cases SET status = $2, department_code = $3, overdue = $4, result = $5, completed_at = $6,"
        " routing_version = $7, department_name = $8, promised_deadline = $9, deadline_provisional = $10,"
        " clock_paused_reason = $11, clock_paused_note = $12, clock_paused_at = $13 WHERE case_id = $1",
        case_id, progress.status, progress.department_code, progress.overdue, progress.result, progress.completed_at,
        progress.routing_version, progress.department_name, progress.promised_deadline, progress.deadline_provisional,
        progress.clock_paused_reason, progress.clock_paused_note, progress.clock_paused_at,
    )


# What a supervisor filters on: piecemeal telling, a missed review period, tolerated materials overdue.
CASE_FLAGS = {
    "second_notice": "c.second_notices > 0",
    "deemed_accepted": "c.deemed_accepted",
    "tolerated_overdue": "EXISTS (SELECT 1 FROM owed_materials o WHERE o.case_id = c.case_id AND NOT o.essential"
                         " AND o.supplied_at IS NULL AND o.due < $4)",
}


async def list_cases(conn: asyncpg.Connection, *, township_id: str, status: str | None, flag: str | None,
                     now: datetime, limit: int, offset: int) -> tuple[int, list[dict]]:
    """A township's cases, newest first, optionally by status and by one supervisor's flag."""
    where = ["c.township_id = $1", "($2::text IS NULL OR c.status = $2)"]
    if flag is not None:
        where.append(CASE_FLAGS[flag])
    overdue = CASE_FLAGS["tolerated_overdue"]
    sql = (f"SELECT c.*, {overdue} AS tolerated_overdue, count(*) OVER () AS total FROM cases c"
           f" WHERE {' AND '.join(where)} ORDER BY c.submitted_at DESC LIMIT $3 OFFSET $5")
    rows = await conn.fetch(sql, township_id, status, limit, now, offset)
    return (rows[0]["total"] if rows else 0), [dict(r) for r in rows]
