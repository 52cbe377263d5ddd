"""Routing's SQL: the department and staff directory, and the cases table."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.routing.directory import DEPARTMENTS
from services.routing.domain import CaseState, Department, JointTask

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


def _row(state: CaseState) -> list[Any]:
    values = asdict(state)
    values["tasks"] = json.dumps(values["tasks"], ensure_ascii=False)  # jsonb: the shares of a joint case
    return [values[c] for c in _COLUMNS]


def state_of(row: asyncpg.Record) -> CaseState:
    values = dict(row)
    values["tasks"] = tuple(JointTask(**t) for t in json.loads(values["tasks"]))
    for column in ("path", "warned_keys", "breached_keys"):
        values[column] = tuple(values[column])
    return CaseState(**{c: values[c] for c in _COLUMNS})


async def save_case(conn: asyncpg.Connection, state: CaseState) -> None:
    await conn.execute(_UPSERT_CASE, *_row(state))


async def get_case(conn: asyncpg.Connection, case_id: UUID) -> CaseState | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    return state_of(row) if row else None


async def lock_case(conn: asyncpg.Connection, case_id: UUID) -> CaseState | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1 FOR UPDATE", case_id)
    return state_of(row) if row else None


async def list_open(conn: asyncpg.Connection, *, township_id: str, limit: int) -> list[CaseState]:
    """A township's open cases, the nearest deadline first."""
    rows = await conn.fetch(
        "SELECT * FROM cases WHERE township_id = $1 AND status = 'assigned'"
        " ORDER BY promised_deadline, case_no LIMIT $2", township_id, limit)
    return [state_of(r) for r in rows]


async def list_held_by(conn: asyncpg.Connection, *, township_id: str, staff_id: str | None, limit: int,
                       now: datetime) -> list[CaseState]:
    """Open cases a staff member holds, or holds a joint share of; all the township's when staff_id is None."""
    rows = await conn.fetch(
        "SELECT * FROM cases WHERE township_id = $1 AND status = 'assigned' AND ($2::text IS NULL OR staff_id = $2"
        " OR tasks @> jsonb_build_array(jsonb_build_object('staff_id', $2::text, 'done', false)))"
        # Running clocks first, the late ones (a deadline breached or past) and the warned ones leading, then the
        # nearest deadline: what the limit cuts is the least urgent.
        " ORDER BY paused_since IS NOT NULL, NOT (breached_keys <> '{}' OR promised_deadline < $4),"
        " warned_keys = '{}', promised_deadline, case_no LIMIT $3", township_id, staff_id, limit, now)
    return [state_of(r) for r in rows]


async def count_held_by(conn: asyncpg.Connection, *, township_id: str, staff_id: str | None) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM cases WHERE township_id = $1 AND status = 'assigned' AND ($2::text IS NULL"
        " OR staff_id = $2 OR tasks @> jsonb_build_array(jsonb_build_object('staff_id', $2::text, 'done', false)))",
        township_id, staff_id)


async def open_provisional(conn: asyncpg.Connection, *, after: UUID | None, limit: int) -> list[UUID]:
    """Open cases whose deadline was counted on the provisional calendar, by id, a page at a time."""
    rows = await conn.fetch(
        "SELECT case_id FROM cases WHERE status = 'assigned' AND deadline_provisional"
        " AND ($1::uuid IS NULL OR case_id > $1) ORDER BY case_id LIMIT $2", after, limit)
    return [r["case_id"] for r in rows]


async def open_breached_by_township(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT township_id, count(*) AS n FROM cases WHERE status = 'assigned'"
                            " AND breached_at IS NOT NULL GROUP BY township_id")
    return {r["township_id"]: r["n"] for r in rows}
