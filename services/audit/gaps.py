"""Lost events: stream_version gaps per (case, source), opened and closed as events are appended,
and the grace period after which an open gap makes the log invalid.

The rules are pure (`gap_change`, `is_overdue`); the rest is their SQL, run in the append's
transaction, so the table never disagrees with the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

from services.audit.domain import MAX_MISSING
from services.audit.metrics import record_gaps

if TYPE_CHECKING:
    from services.audit.deps import AuditRuntime

OVERDUE_MESSAGE = "有缺失事件超过宽限期仍未到达：事件已丢失，审计日志不完整"


@dataclass(frozen=True)
class GapChange:
    """What appending one version does to its stream's gaps."""

    opened: list[int]  # versions now known to be missing
    closes: int | None  # the version that arrived late, if it was below the highest seen


@dataclass(frozen=True)
class OpenGap:
    case_id: UUID
    source: str
    version: int
    detected_at: datetime


def gap_change(*, highest: int, version: int, limit: int = MAX_MISSING) -> GapChange:
    """`highest` is the highest version of the stream logged before (0 for a new stream).

    A version above highest + 1 opens a gap for each version between (at most `limit`, so a
    forged huge version does not write a billion rows); one at or below highest may be a late
    event closing its gap.
    """
    if version > highest + 1:
        return GapChange(opened=list(range(highest + 1, min(version, highest + 1 + limit))), closes=None)
    if version <= highest:
        return GapChange(opened=[], closes=version)
    return GapChange(opened=[], closes=None)


def age(gap: OpenGap, now: datetime) -> timedelta:
    return max(now - gap.detected_at, timedelta(0))


def is_overdue(gap: OpenGap, *, now: datetime, grace: timedelta) -> bool:
    """Past the grace period a gap is no longer an event on its way (another topic, a slow
    partition) but a lost one."""
    return age(gap, now) > grace


async def track(conn: asyncpg.Connection, *, event_id: UUID, case_id: UUID, source: str, version: int,
                now: datetime) -> None:
    """Open or close gaps for the version just appended (under the append lock, after the insert)."""
    highest = await conn.fetchval("SELECT coalesce(max(stream_version), 0) FROM audit_log"
                                  " WHERE case_id = $1 AND source = $2 AND event_id <> $3", case_id, source, event_id)
    change = gap_change(highest=highest, version=version)
    if change.opened:
        await conn.executemany(
            "INSERT INTO stream_gaps (case_id, source, version, detected_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING", [(case_id, source, v, now) for v in change.opened])
    if change.closes is not None:
        await conn.execute("UPDATE stream_gaps SET closed_at = $4 WHERE case_id = $1 AND source = $2"
                           " AND version = $3 AND closed_at IS NULL", case_id, source, change.closes, now)


async def open_gaps(conn: asyncpg.Connection, *, limit: int) -> list[OpenGap]:
    """Open gaps, oldest first."""
    rows = await conn.fetch("SELECT case_id, source, version, detected_at FROM stream_gaps WHERE closed_at IS NULL"
                            " ORDER BY detected_at, case_id, source, version LIMIT $1", limit)
    return [OpenGap(**dict(r)) for r in rows]


async def counts(conn: asyncpg.Connection, *, overdue_before: datetime) -> tuple[int, int]:
    """(open gaps, open gaps detected before `overdue_before`)."""
    row = await conn.fetchrow("SELECT count(*) AS open, count(*) FILTER (WHERE detected_at < $1) AS overdue"
                              " FROM stream_gaps WHERE closed_at IS NULL", overdue_before)
    return row["open"], row["overdue"]


async def refresh_metrics(runtime: AuditRuntime) -> None:
    """The gap gauges, in the metrics refresh round (one indexed count)."""
    grace = timedelta(seconds=runtime.settings.gap_grace_seconds)
    async with runtime.pool.acquire() as conn:
        open_, overdue = await counts(conn, overdue_before=runtime.clock.now() - grace)
    record_gaps(open_=open_, overdue=overdue)
