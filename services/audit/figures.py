"""Figures per township, department or staff member and period (pure): counts into rates.

按期办结率 = completed on time / completed; 满意率 = ratings of 4 or 5 / ratings; 差评回访率 = bad ratings
followed up / bad ratings. A case counts in the period it was accepted, its completion in the period it
was completed, its rating in the period it was rated. A rating removed by an upheld appeal
(RatingAppealDecided) counts nowhere. A rate without a denominator is None, not 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Dimension = Literal["township", "department", "staff"]
PeriodUnit = Literal["month", "week"]
COLUMNS: dict[str, str] = {"township": "township_id", "department": "department_code", "staff": "staff_id"}
UNKNOWN = "unknown"
MEASURES = ("cases", "completed", "on_time", "ratings", "satisfied", "bad_ratings", "followed_up")


@dataclass
class Figures:
    key: str
    period_start: date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.counts["on_time"], self.counts["completed"])

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(self.counts["satisfied"], self.counts["ratings"])

    @property
    def follow_up_rate(self) -> float | None:
        return rate(self.counts["followed_up"], self.counts["bad_ratings"])


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def combine(counts: Iterable[tuple[str | None, date, str, int]]) -> list[Figures]:
    """(key, period start, measure, n) rows, as the store gives them, into one Figures per key and period,
    ordered by period, then key."""
    table: dict[tuple[str, date], Figures] = {}
    for key, start, measure, n in counts:
        name = key or UNKNOWN
        row = table.setdefault((name, start), Figures(key=name, period_start=start))
        row.counts[measure] += n
    return [table[k] for k in sorted(table, key=lambda k: (k[1], k[0]))]
