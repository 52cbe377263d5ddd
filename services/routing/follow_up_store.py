"""Routing's SQL for the bad-rating loop: the ratings heard, the follow-ups, and the timers' scan over them."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.events import CaseRated
from services.routing.follow_up import FollowUpState
from services.routing.timers_store import DueTimer, due_from_row

_COLUMNS = [f.name for f in fields(FollowUpState)]
_INSERT = (f"INSERT INTO follow_ups ({', '.join(_COLUMNS)})"
           f" VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})")
_UPSERT = (f"{_INSERT} ON CONFLICT (rating_event_id) DO UPDATE"
           f" SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}")


def _state(row: asyncpg.Record) -> FollowUpState:
    values = dict(row)
    for column in ("evidence", "warned_keys", "breached_keys"):
        values[column] = tuple(values[column])
    return FollowUpState(**{c: values[c] for c in _COLUMNS})


async def remember_rating(conn: asyncpg.Connection, rating: CaseRated) -> bool:
    """False when this rating was heard before."""
    done = await conn.fetchval(
        "INSERT INTO case_ratings (rating_event_id, case_id, score, rating_round, rated_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        rating.event_id, rating.case_id, rating.payload.score, rating.payload.rating_round, rating.occurred_at)
    return bool(done)


async def rating_score(conn: asyncpg.Connection, *, case_id: UUID, rating_event_id: UUID) -> int | None:
    return await conn.fetchval("SELECT score FROM case_ratings WHERE rating_event_id = $1 AND case_id = $2",
                               rating_event_id, case_id)


async def completed_by(conn: asyncpg.Connection, case_id: UUID) -> str | None:
    """Who completed the case, from routing's own CaseCompleted (the last, should there be several)."""
    body = await conn.fetchval("SELECT body FROM events WHERE case_id = $1 AND event_type = 'CaseCompleted'"
                               " ORDER BY stream_version DESC LIMIT 1", case_id)
    return json.loads(body)["payload"].get("staff_id") if body else None


async def centre_head(conn: asyncpg.Connection, township_id: str) -> str | None:
    return await conn.fetchval("SELECT staff_id FROM staff WHERE township_id = $1 AND role = 'centre_head'"
                               " AND active ORDER BY staff_id LIMIT 1", township_id)


async def save(conn: asyncpg.Connection, state: FollowUpState) -> None:
    values = asdict(state)
    values["evidence"] = list(state.evidence)
    await conn.execute(_UPSERT, *(values[c] for c in _COLUMNS))


async def lock(conn: asyncpg.Connection, *, case_id: UUID, rating_event_id: UUID) -> FollowUpState | None:
    row = await conn.fetchrow("SELECT * FROM follow_ups WHERE rating_event_id = $1 AND case_id = $2 FOR UPDATE",
                              rating_event_id, case_id)
    return _state(row) if row else None


async def get(conn: asyncpg.Connection, rating_event_id: UUID) -> FollowUpState | None:
    row = await conn.fetchrow("SELECT * FROM follow_ups WHERE rating_event_id = $1", rating_event_id)
    return _state(row) if row else None


async def of_case(conn: asyncpg.Connection, case_id: UUID) -> list[FollowUpState]:
    rows = await conn.fetch("SELECT * FROM follow_ups WHERE case_id = $1 ORDER BY rated_at", case_id)
    return [_state(r) for r in rows]


async def open_in_township(conn: asyncpg.Connection, *, township_id: str, owner_staff_id: str | None,
                           limit: int) -> list[FollowUpState]:
    """A township's open follow-ups, or only those one staff member owns; the soonest due first."""
    rows = await conn.fetch(
        "SELECT * FROM follow_ups WHERE township_id = $1 AND NOT closed AND ($2::text IS NULL OR owner_staff_id = $2)"
        " ORDER BY CASE WHEN visited_at IS NULL THEN visit_due ELSE rectification_due END, case_no LIMIT $3",
        township_id, owner_staff_id, limit)
    return [_state(r) for r in rows]


async def lock_next_due_timer(conn: asyncpg.Connection, *, now: datetime) -> DueTimer | None:
    """The earliest due timer of a follow-up (its row in deadline_timers is keyed by the rating's event id),
    with the follow-up's row locked; those another scan holds are skipped."""
    row = await conn.fetchrow(
        "SELECT t.* FROM deadline_timers t JOIN follow_ups f ON f.rating_event_id = t.case_id"
        " WHERE t.fired_at IS NULL AND t.due_at <= $1 ORDER BY t.due_at LIMIT 1 FOR UPDATE OF t, f SKIP LOCKED", now)
    return due_from_row(row)
