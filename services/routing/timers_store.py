"""Routing's durable timers: one row per alert of a deadline, armed and disarmed with the case's state.

Every change to a case's timers happens while the case's row (or the complaint's) is locked, and the
scan locks that same row before it touches a timer, so a scan and a command never wait on each other
in opposite orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.routing.alerts import Timer


@dataclass(frozen=True)
class DueTimer:
    case_id: UUID
    timer: Timer


async def arm(conn: asyncpg.Connection, case_id: UUID, timers: Sequence[Timer]) -> None:
    """Set these timers, moving one not yet fired to its new time; a fired one stays as it is."""
    if not timers:
        return
    await conn.executemany(
        "INSERT INTO deadline_timers (case_id, deadline_key, kind, due_at, deadline, deadline_kind, subject)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_id, deadline_key, kind) DO UPDATE"
        " SET due_at = excluded.due_at, deadline = excluded.deadline, subject = excluded.subject"
        " WHERE deadline_timers.fired_at IS NULL",
        [(case_id, t.deadline_key, t.kind, t.due_at, t.deadline, t.deadline_kind, t.subject) for t in timers])


async def disarm(conn: asyncpg.Connection, case_id: UUID, *, keys: Sequence[str] | None = None,
                 keep: Sequence[Timer] = ()) -> None:
    """Drop the unfired timers of these deadline keys (all keys when None), except those in `keep`."""
    kept = [f"{t.deadline_key}/{t.kind}" for t in keep]
    await conn.execute(
        "DELETE FROM deadline_timers WHERE case_id = $1 AND fired_at IS NULL"
        " AND ($2::text[] IS NULL OR deadline_key = ANY($2::text[]))"
        " AND NOT (deadline_key || '/' || kind = ANY($3::text[]))",
        case_id, list(keys) if keys is not None else None, kept)


async def replace_key(conn: asyncpg.Connection, case_id: UUID, key: str, timers: Sequence[Timer]) -> None:
    """The timers of one deadline become exactly `timers` (fired ones untouched)."""
    await disarm(conn, case_id, keys=[key], keep=timers)
    await arm(conn, case_id, timers)


async def lock_next_due_case_timer(conn: asyncpg.Connection, *, now: datetime) -> DueTimer | None:
    """The earliest due timer of a case, with the timer's and the case's rows locked; what another scan holds is
    skipped. Locking the timer too makes a scan that waited re-read it, so it never takes one just fired."""
    row = await conn.fetchrow(
        "SELECT t.* FROM deadline_timers t JOIN cases c ON c.case_id = t.case_id"
        " WHERE t.fired_at IS NULL AND t.due_at <= $1 ORDER BY t.due_at LIMIT 1 FOR UPDATE OF t, c SKIP LOCKED", now)
    return due_from_row(row)


async def lock_next_due_complaint_timer(conn: asyncpg.Connection, *, now: datetime) -> DueTimer | None:
    """The same for complaints, whose row is in `complaints`."""
    row = await conn.fetchrow(
        "SELECT t.* FROM deadline_timers t JOIN complaints c ON c.complaint_id = t.case_id"
        " WHERE t.fired_at IS NULL AND t.due_at <= $1 ORDER BY t.due_at LIMIT 1 FOR UPDATE OF t, c SKIP LOCKED", now)
    return due_from_row(row)


async def mark_fired(conn: asyncpg.Connection, due: DueTimer, *, now: datetime) -> None:
    await conn.execute("UPDATE deadline_timers SET fired_at = $4 WHERE case_id = $1 AND deadline_key = $2"
                       " AND kind = $3", due.case_id, due.timer.deadline_key, due.timer.kind, now)


async def next_due_at(conn: asyncpg.Connection) -> datetime | None:
    return await conn.fetchval("SELECT min(due_at) FROM deadline_timers WHERE fired_at IS NULL")


def due_from_row(row: asyncpg.Record | None) -> DueTimer | None:
    if row is None:
        return None
    return DueTimer(row["case_id"], Timer(row["deadline_key"], row["kind"], row["due_at"], row["deadline"],
                                          row["deadline_kind"], row["subject"]))
