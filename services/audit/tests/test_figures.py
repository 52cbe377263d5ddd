"""Figures from counts: rates only where there is a denominator, one row per key and period."""

from __future__ import annotations

from datetime import date

import pytest

from services.audit.figures import UNKNOWN, combine, rate

pytestmark = pytest.mark.unit


def test_counts_become_rows_with_rates():
    oct_, nov = date(2026, 10, 1), date(2026, 11, 1)
    rows = combine([("qingshui", oct_, "completed", 4), ("qingshui", oct_, "on_time", 3), ("qingshui", oct_, "cases", 5),
                    ("qingshui", oct_, "ratings", 3), ("qingshui", oct_, "satisfied", 2), (None, nov, "cases", 1),
                    ("baishi", oct_, "cases", 2)])
    assert [(r.key, r.period_start) for r in rows] == [("baishi", oct_), ("qingshui", oct_), (UNKNOWN, nov)]
    qingshui = rows[1]
    assert (qingshui.counts["cases"], qingshui.on_time_rate, qingshui.satisfaction_rate) == (5, 0.75, 0.6667)
    assert qingshui.follow_up_rate is None and rows[0].on_time_rate is None


def test_rate_without_denominator_is_none():
    assert rate(0, 0) is None and rate(0, 3) == 0.0 and rate(1, 3) == 0.3333
