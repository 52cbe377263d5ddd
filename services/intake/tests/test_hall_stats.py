"""The hall's staffing figures, from tickets made by hand: counts, means and percentiles per hour and weekday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.workdays import SHANGHAI
from services.intake.hall_stats import hall_stats
from services.kit.hall_figures import TicketFigures, durations, percentile

pytestmark = pytest.mark.unit
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


def _ticket(day: date, hh_mm: str, outcome: str | None = None, wait: int | None = None,
            service: int | None = None) -> TicketFigures:
    hour, minute = map(int, hh_mm.split(":"))
    issued = datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
    return TicketFigures(issued_at=issued, day=day, outcome=outcome, wait_seconds=wait, service_seconds=service)


TICKETS = [
    _ticket(MONDAY, "09:10", "served", wait=600, service=300),
    _ticket(MONDAY, "09:40", "served", wait=1200, service=600),
    _ticket(MONDAY, "09:50", "no_show"),
    _ticket(MONDAY, "10:05", "served", wait=60, service=900),
    _ticket(TUESDAY, "09:20", "served", wait=300, service=300),
    _ticket(TUESDAY, "14:00"),  # never called: the resident left
]


def test_percentiles_interpolate_between_ranks():
    assert percentile([300, 600, 1200], 0.5) == 600
    assert percentile([300, 600, 1200], 0.9) == pytest.approx(1080)  # 600 + 0.8 * (1200 - 600)
    assert percentile([42], 0.9) == 42
    assert percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)
    assert durations([]).model_dump() == {"count": 0, "mean": None, "p50": None, "p90": None}


def test_figures_per_hour_of_arrival():
    stats = hall_stats(TICKETS, township_id="qingshui", first_day=MONDAY, last_day=TUESDAY)
    hours = {h.hour: h for h in stats.by_hour}
    assert sorted(hours) == [9, 10, 14]
    nine = hours[9]
    assert (nine.visitors, nine.served, nine.no_show, nine.not_ended, nine.days_open) == (4, 3, 1, 0, 2)
    assert nine.visitors_per_day == 2.0
    assert nine.window_hours_per_day == round(1200 / 3600 / 2, 2)  # windows kept busy by 09:00's arrivals
    assert nine.wait.model_dump() == {"count": 3, "mean": 700.0, "p50": 600.0, "p90": 1080.0}
    assert nine.service.model_dump() == {"count": 3, "mean": 400.0, "p50": 300.0, "p90": 540.0}
    assert hours[10].wait.model_dump() == {"count": 1, "mean": 60.0, "p50": 60.0, "p90": 60.0}
    assert (hours[14].visitors, hours[14].not_ended, hours[14].wait.count, hours[14].wait.mean) == (1, 1, 0, None)
    assert hours[14].visitors_per_day == 0.5  # a day nobody came at 14:00 counts as none


def test_figures_per_weekday_and_in_all():
    stats = hall_stats(TICKETS, township_id="qingshui", first_day=MONDAY, last_day=MONDAY + timedelta(days=6))
    monday, tuesday = stats.by_weekday
    assert (monday.weekday, monday.name, monday.visitors, monday.days_open, monday.visitors_per_day) == (
        1, "星期一", 4, 1, 4.0)
    assert (tuesday.weekday, tuesday.name, tuesday.visitors, tuesday.not_ended) == (2, "星期二", 2, 1)
    assert tuesday.wait.mean == 300.0
    total = stats.total
    assert (total.visitors, total.served, total.no_show, total.not_ended, total.days_open) == (6, 4, 1, 1, 2)
    assert total.visitors_per_day == 3.0 and total.window_hours_per_day == round(2100 / 7200, 2)
    assert total.wait.p50 == 450.0  # between 300 and 600


def test_hours_are_those_of_shanghai_whatever_the_zone_of_the_timestamp():
    in_utc = TicketFigures(issued_at=datetime(2026, 11, 23, 0, 30, tzinfo=UTC), day=MONDAY, outcome="served",
                           wait_seconds=10, service_seconds=20)  # 08:30 in Shanghai
    [hour] = hall_stats([in_utc], township_id="q", first_day=MONDAY, last_day=MONDAY).by_hour
    assert hour.hour == 8


def test_no_tickets_give_empty_figures():
    stats = hall_stats([], township_id="qingshui", first_day=MONDAY, last_day=MONDAY)
    assert stats.by_hour == [] and stats.by_weekday == []
    assert (stats.total.visitors, stats.total.days_open, stats.total.visitors_per_day) == (0, 0, 0.0)
