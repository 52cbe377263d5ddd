"""The figures' SQL: counts per key (township, department or current holder) and period start (Asia/Shanghai)
from audit_cases, one scan per moment counted (accepted, completed, rated), the measures as FILTERs."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from services.audit.figures import COLUMNS, Dimension, PeriodUnit
from services.audit.periods import Period

# the moment a measure counts at -> {measure: the condition}
_MEASURES: dict[str, dict[str, str]] = {
    "submitted_at": {"cases": "true"},
    "completed_at": {"completed": "true", "on_time": "on_time"},
    "rated_at": {
        "ratings": "NOT rating_excluded",
        "satisfied": "NOT rating_excluded AND rating_score >= 4",
        "bad_ratings": "NOT rating_excluded AND rating_score <= 2",
        "followed_up": "NOT rating_excluded AND rating_score <= 2 AND followed_up_at IS NOT NULL",
    },
}


async def counts(conn: asyncpg.Connection, *, by: Dimension, unit: PeriodUnit, township_id: str | None,
                 period: Period) -> list[tuple[str | None, date, str, int]]:
    key = COLUMNS[by]
    out: list[tuple[str | None, date, str, int]] = []
    for at, measures in _MEASURES.items():
        clauses, args = [f"{at} IS NOT NULL"], list[Any]()
        for sql, value in (("township_id = $%d", township_id), (f"{at} >= $%d", period.start),
                           (f"{at} < $%d", period.end)):
            if value is not None:
                args.append(value)
                clauses.append(sql % len(args))
        counted = ", ".join(f"count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in measures.items())
        rows = await conn.fetch(
            f"SELECT {key} AS key, date_trunc('{unit}', {at} AT TIME ZONE 'Asia/Shanghai')::date AS start, {counted}"
            f" FROM audit_cases WHERE {' AND '.join(clauses)} GROUP BY 1, 2", *args)
        out += [(r["key"], r["start"], name, r[name]) for r in rows for name in measures if r[name]]
    return out
