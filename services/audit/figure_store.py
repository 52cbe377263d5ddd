"""The figures' SQL: counts per key (township, department or current holder) and period start (Asia/Shanghai),
one measure per row, from audit_cases."""

from __future__ import annotations

from datetime import date

import asyncpg

from services.audit.figures import COLUMNS, Dimension, PeriodUnit
from services.audit.queries import Period

# measure -> (the moment it counts at, the condition, what is counted)
_MEASURES: dict[str, tuple[str, str]] = {
    "cases": ("submitted_at", "true"),
    "completed": ("completed_at", "true"),
    "on_time": ("completed_at", "on_time"),
    "ratings": ("rated_at", "NOT rating_excluded"),
    "satisfied": ("rated_at", "NOT rating_excluded AND rating_score >= 4"),
    "bad_ratings": ("rated_at", "NOT rating_excluded AND rating_score <= 2"),
    "followed_up": ("rated_at", "NOT rating_excluded AND rating_score <= 2 AND followed_up_at IS NOT NULL"),
}


async def counts(conn: asyncpg.Connection, *, by: Dimension, unit: PeriodUnit, township_id: str | None,
                 period: Period) -> list[tuple[str | None, date, str, int]]:
    key = COLUMNS[by]
    parts = []
    for measure, (at, condition) in _MEASURES.items():
        clauses = [f"{at} IS NOT NULL", condition, "($1::text IS NULL OR township_id = $1)",
                   f"($2::timestamptz IS NULL OR {at} >= $2)", f"($3::timestamptz IS NULL OR {at} < $3)"]
        parts.append(f"SELECT {key} AS key, date_trunc('{unit}', {at} AT TIME ZONE 'Asia/Shanghai')::date AS start,"
                     f" '{measure}' AS measure, count(*) AS n FROM audit_cases WHERE {' AND '.join(clauses)}"
                     " GROUP BY 1, 2")
    rows = await conn.fetch(" UNION ALL ".join(parts), township_id, period.start, period.end)
    return [(r["key"], r["start"], r["measure"], r["n"]) for r in rows]
