"""The bad-rating ledger's SQL: folding the loop's events into audit_bad_ratings (called by the read model's
fold, in the same transaction), the ledger's keyset pages and the rows its figures are counted from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.audit import bad_ratings as br
from services.audit.periods import Period
from services.audit.read_model import LoggedEvent

_COLUMNS = br.BAD_RATING_COLUMNS
_UPSERT = (f"INSERT INTO audit_bad_ratings ({', '.join(_COLUMNS)})"
           f" VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})"
           " ON CONFLICT (rating_event_id) DO UPDATE SET "
           + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "rating_event_id"))


async def fold(conn: asyncpg.Connection, events: Sequence[LoggedEvent]) -> None:
    """Fold events, in seq order, into the bad ratings they touch: read each row once, write it once."""
    touched = [(rating_id, e) for e in events for rating_id in br.rows_touched(e)]
    if not touched:
        return
    ids = list({rating_id for rating_id, _ in touched})
    rows = await conn.fetch(f"SELECT {', '.join(_COLUMNS)} FROM audit_bad_ratings"
                            " WHERE rating_event_id = ANY($1::uuid[])", ids)
    facts = {r["rating_event_id"]: br.BadRatingFacts(**dict(r)) for r in rows}
    for rating_id, event in touched:
        facts[rating_id] = br.fold(facts.get(rating_id), rating_id, event)
    await conn.executemany(_UPSERT, [br.as_row(f) for f in facts.values()])


# What a state can be at most, in SQL; state_of says exactly (overdue depends on working days).
_STATE_SUPERSETS: dict[str, str] = {
    "appeal_upheld": "b.appeal_upheld",
    "rectified": "b.rectified_at IS NOT NULL AND b.appeal_upheld IS NOT TRUE",
    "overdue": "b.rectified_at IS NULL AND b.appeal_upheld IS NOT TRUE",
    "appealed": "b.appealed_at IS NOT NULL AND b.appeal_upheld IS NULL AND b.rectified_at IS NULL",
    "appeal_rejected": "b.appeal_upheld = false AND b.rectified_at IS NULL",
    "visited": "b.visited_at IS NOT NULL AND b.rectified_at IS NULL AND b.appeal_upheld IS NOT TRUE",
    "open": "b.visited_at IS NULL AND b.rectified_at IS NULL AND b.appeal_upheld IS NOT TRUE",
}
# The case's department and holder stand in until FollowUpOpened names them.
_SELECT = ("SELECT b.*, coalesce(b.case_no, c.case_no) AS case_no_shown,"
           " coalesce(b.department_code, c.department_code) AS department_shown,"
           " coalesce(b.owner_staff_id, c.staff_id) AS owner_shown, b.rated_at AS sort_at,"
           " b.rating_event_id::text AS sort_id"
           " FROM audit_bad_ratings b LEFT JOIN audit_cases c ON c.case_id = b.case_id")


@dataclass(frozen=True)
class LedgerFilter:
    township_id: str | None = None
    department_code: str | None = None
    owner_staff_id: str | None = None
    state: str | None = None
    period: Period = Period(None, None)


def _where(f: LedgerFilter, after: tuple[datetime, str] | None) -> tuple[str, list[Any]]:
    clauses, args = ["b.score IS NOT NULL"], list[Any]()

    def add(sql: str, value: Any) -> None:
        args.append(value)
        clauses.append(sql.replace("?", f"${len(args)}"))

    for sql, value in (("b.township_id = ?", f.township_id),
                       ("coalesce(b.department_code, c.department_code) = ?", f.department_code),
                       ("coalesce(b.owner_staff_id, c.staff_id) = ?", f.owner_staff_id),
                       ("b.rated_at >= ?", f.period.start), ("b.rated_at < ?", f.period.end)):
        if value is not None:
            add(sql, value)
    if f.state is not None:
        clauses.append(_STATE_SUPERSETS[f.state])
    if after:
        args += [after[0], after[1]]
        clauses.append(f"(b.rated_at, b.rating_event_id::text) > (${len(args) - 1}, ${len(args)})")
    return " AND ".join(clauses), args


async def page(conn: asyncpg.Connection, f: LedgerFilter, *, after: tuple[datetime, str] | None,
               limit: int) -> list[asyncpg.Record]:
    """One page of candidate rows in order of rating, then id; the state filter is narrowed by the caller."""
    where, args = _where(f, after)
    return await conn.fetch(f"{_SELECT} WHERE {where} ORDER BY b.rated_at, b.rating_event_id::text"
                            f" LIMIT {int(limit)}", *args)


async def figure_rows(conn: asyncpg.Connection, *, township_id: str | None, period: Period) -> list[asyncpg.Record]:
    """Every bad rating of the township(s) and period: a county's month holds tens or hundreds, not more."""
    where, args = _where(LedgerFilter(township_id=township_id, period=period), None)
    return await conn.fetch(f"SELECT b.* FROM audit_bad_ratings b LEFT JOIN audit_cases c ON c.case_id = b.case_id"
                            f" WHERE {where}", *args)


def evidence_ids(row: Any) -> list[UUID]:
    """The audit records a ledger row rests on, in the loop's order."""
    return [row[k] for k in ("rating_event_id", "opened_event_id", "visit_event_id", "rectification_event_id",
                             "appeal_event_id", "appeal_decision_event_id", "second_rating_event_id") if row[k]]
