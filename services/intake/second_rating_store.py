"""Intake's SQL for the second rating (整改后再评价)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.events import RatingChannel
from services.intake.second_rating import SecondRound


async def lock_second_round(conn: asyncpg.Connection, case_id: UUID) -> tuple[SecondRound, str] | None:
    """The case's second-round state and township, locked for this transaction."""
    row = await conn.fetchrow("SELECT rating_event_id, rate_again_asked_at, rated_again_at, township_id FROM cases"
                              " WHERE case_id = $1 FOR UPDATE", case_id)
    if row is None:
        return None
    return SecondRound(first_rating_id=row["rating_event_id"], asked=row["rate_again_asked_at"] is not None,
                       rated_again=row["rated_again_at"] is not None), row["township_id"]


async def mark_asked(conn: asyncpg.Connection, case_id: UUID, *, at: datetime) -> None:
    await conn.execute("UPDATE cases SET rate_again_asked_at = coalesce(rate_again_asked_at, $2) WHERE case_id = $1",
                       case_id, at)


async def mark_rated_again(conn: asyncpg.Connection, case_id: UUID, *, score: int, channel: RatingChannel,
                           at: datetime) -> None:
    await conn.execute("UPDATE cases SET second_rating_score = $2, second_rating_channel = $3, rated_again_at = $4"
                       " WHERE case_id = $1", case_id, score, channel, at)
