"""Intake's SQL for consultations, complaints and their numbers."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from contracts.events import ComplaintAnsweredPayload, ComplaintRegisteredPayload, ConsultationLoggedPayload

RECENT_CONSULTATIONS = 50


async def insert_consultation(conn: asyncpg.Connection, *, consultation_id: UUID, township_id: str, at: datetime,
                              day: date, payload: ConsultationLoggedPayload) -> None:
    await conn.execute(
        "INSERT INTO consultations (consultation_id, township_id, logged_at, day, channel, item_code, department_code,"
        " question, answer, first_contact_staff_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        consultation_id, township_id, at, day, payload.channel, payload.item_code, payload.department_code,
        payload.question, payload.answer, payload.first_contact_staff_id)


async def consultation_counts(conn: asyncpg.Connection, *, township_id: str, start: date, end: date) -> list[dict]:
    rows = await conn.fetch(
        "SELECT day, department_code, count(*) AS count FROM consultations"
        " WHERE township_id = $1 AND day BETWEEN $2 AND $3"
        " GROUP BY day, department_code ORDER BY day, department_code NULLS LAST", township_id, start, end)
    return [dict(r) for r in rows]


async def recent_consultations(conn: asyncpg.Connection, *, township_id: str, start: date, end: date) -> list[dict]:
    rows = await conn.fetch(
        "SELECT consultation_id, logged_at, channel, item_code, department_code, question, answer,"
        " first_contact_staff_id FROM consultations WHERE township_id = $1 AND day BETWEEN $2 AND $3"
        " ORDER BY logged_at DESC LIMIT $4", township_id, start, end, RECENT_CONSULTATIONS)
    return [dict(r) for r in rows]


async def next_complaint_number(conn: asyncpg.Connection, *, township_id: str, day: date) -> int:
    return await conn.fetchval(
        "INSERT INTO complaint_counters (township_id, day, last_no) VALUES ($1, $2, 1)"
        " ON CONFLICT (township_id, day) DO UPDATE SET last_no = complaint_counters.last_no + 1 RETURNING last_no",
        township_id, day)


async def case_township(conn: asyncpg.Connection, case_id: UUID) -> str | None:
    return await conn.fetchval("SELECT township_id FROM cases WHERE case_id = $1", case_id)


async def insert_complaint(conn: asyncpg.Connection, *, complaint_id: UUID, township_id: str, at: datetime,
                           payload: ComplaintRegisteredPayload) -> None:
    await conn.execute(
        "INSERT INTO complaints (complaint_id, complaint_no, township_id, complaint_kind, subject, department_code,"
        " about_staff_id, about_case_id, anonymous, complainant_name, registered_at, answer_due, first_contact_staff_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        complaint_id, payload.complaint_no, township_id, payload.complaint_kind, payload.subject,
        payload.department_code, payload.about_staff_id, payload.about_case_id, payload.anonymous,
        payload.complainant_name, at, payload.answer_due, payload.first_contact_staff_id)


async def get_complaint(conn: asyncpg.Connection, complaint_id: UUID) -> dict | None:
    row = await conn.fetchrow("SELECT * FROM complaints WHERE complaint_id = $1", complaint_id)
    return dict(row) if row else None


async def lock_complaint_township(conn: asyncpg.Connection, complaint_id: UUID) -> str | None:
    return await conn.fetchval("SELECT township_id FROM complaints WHERE complaint_id = $1 FOR UPDATE", complaint_id)


async def mark_answered(conn: asyncpg.Connection, complaint_id: UUID, *, at: datetime,
                        payload: ComplaintAnsweredPayload) -> bool:
    """False when intake holds no open complaint of that id (not registered here, or answered already)."""
    done = await conn.fetchval(
        "UPDATE complaints SET status = 'answered', answered_at = $2, upheld = $3, on_time = $4"
        " WHERE complaint_id = $1 AND status = 'open' RETURNING true",
        complaint_id, at, payload.upheld, payload.on_time)
    return bool(done)
