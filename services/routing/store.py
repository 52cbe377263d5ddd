"""Routing's SQL: the department and staff directory, and the cases table."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from uuid import UUID

import asyncpg

from services.routing.directory import DEPARTMENTS, STAFF
from services.routing.domain import CaseState, Department

_COLUMNS = [f.name for f in fields(CaseState)]
_UPSERT_CASE = (
    f"INSERT INTO cases ({', '.join(_COLUMNS)}) VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})"
    f" ON CONFLICT (case_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}"
)


async def seed_directory(conn: asyncpg.Connection) -> None:
    """Upsert the demo directory; presence (on_duty) is left as staff set it."""
    await conn.executemany(
        "INSERT INTO departments (department_code, name) VALUES ($1, $2)"
        " ON CONFLICT (department_code) DO UPDATE SET name = excluded.name",
        list(DEPARTMENTS.items()),
    )
    await conn.executemany(
        "INSERT INTO staff (staff_id, township_id, department_code, name) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (staff_id) DO UPDATE SET township_id = excluded.township_id,"
        " department_code = excluded.department_code, name = excluded.name",
        [(s["staff_id"], s["township_id"], s["department_code"], s["name"]) for s in STAFF],
    )


async def load_department(conn: asyncpg.Connection, department_code: str) -> Department | None:
    row = await conn.fetchrow("SELECT department_code, name FROM departments WHERE department_code = $1", department_code)
    return Department(row["department_code"], row["name"]) if row else None


async def lock_staff_load(conn: asyncpg.Connection, *, township_id: str, department_code: str) -> dict[str, int]:
    """Open cases per on-duty staff member of one township department.

    The staff rows stay locked until commit, so two concurrent assignments to the same
    department count each other's case instead of both picking the same person.
    """
    ids = [r["staff_id"] for r in await conn.fetch(
        "SELECT staff_id FROM staff WHERE township_id = $1 AND department_code = $2 AND on_duty"
        " ORDER BY staff_id FOR UPDATE", township_id, department_code)]
    if not ids:
        return {}
    counts = dict(await conn.fetch(
        "SELECT staff_id, count(*) FROM cases WHERE status = 'assigned' AND staff_id = ANY($1::text[])"
        " GROUP BY staff_id", ids))
    return {staff_id: counts.get(staff_id, 0) for staff_id in ids}


async def case_exists(conn: asyncpg.Connection, case_id: UUID) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM cases WHERE case_id = $1)", case_id)


async def save_case(conn: asyncpg.Connection, state: CaseState) -> None:
    values = asdict(state)
    await conn.execute(_UPSERT_CASE, *(values[c] for c in _COLUMNS))


async def get_case(conn: asyncpg.Connection, case_id: UUID) -> CaseState | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    return CaseState(**dict(row)) if row else None


async def lock_case(conn: asyncpg.Connection, case_id: UUID) -> CaseState | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1 FOR UPDATE", case_id)
    return CaseState(**dict(row)) if row else None


async def lock_next_due(conn: asyncpg.Connection, *, now: datetime) -> CaseState | None:
    """One open, unflagged case past its deadline, locked; rows another scanner holds are skipped."""
    row = await conn.fetchrow(
        "SELECT * FROM cases WHERE status = 'assigned' AND breached_at IS NULL AND promised_deadline < $1"
        " ORDER BY promised_deadline LIMIT 1 FOR UPDATE SKIP LOCKED", now)
    return CaseState(**dict(row)) if row else None


async def list_open(conn: asyncpg.Connection, *, township_id: str, limit: int) -> list[CaseState]:
    rows = await conn.fetch(
        "SELECT * FROM cases WHERE township_id = $1 AND status = 'assigned'"
        " ORDER BY promised_deadline DESC, case_no LIMIT $2", township_id, limit)
    return [CaseState(**dict(r)) for r in rows]


async def open_breached_by_township(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT township_id, count(*) AS n FROM cases WHERE status = 'assigned'"
                            " AND breached_at IS NOT NULL GROUP BY township_id")
    return {r["township_id"]: r["n"] for r in rows}
