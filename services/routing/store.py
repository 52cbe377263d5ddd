"""Routing's SQL: the department and staff directory, and the cases table."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from uuid import UUID

import asyncpg

from services.routing.directory import DEPARTMENTS
from services.routing.domain import CaseState, Department

_COLUMNS = [f.name for f in fields(CaseState)]
_UPSERT_CASE = (
    f"INSERT INTO cases ({', '.join(_COLUMNS)}) VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})"
    f" ON CONFLICT (case_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}"
)


async def seed_directory(conn: asyncpg.Connection) -> None:
    """Upsert the county's departments; staff come from the staff file (staff_commands.seed_staff_file)."""
    await conn.executemany(
        "INSERT INTO departments (department_code, name) VALUES ($1, $2)"
        " ON CONFLICT (department_code) DO UPDATE SET name = excluded.name",
        list(DEPARTMENTS.items()),
    )


async def load_department(conn: asyncpg.Connection, department_code: str) -> Department | None:
    row = await conn.fetchrow("SELECT department_code, name FROM departments WHERE department_code = $1", department_code)
    return Department(row["department_code"], row["name"]) if row else None


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
