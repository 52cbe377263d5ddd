"""The county's hall figures: months, ISO weeks, weekdays, hours and the windows each slot needs."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from contracts.workdays import SHANGHAI
from services.audit.hall_figures import hall_figures
from services.kit.hall_figures import TicketFigures

MONDAY = date(2026, 11, 23)  # ISO week 48


def _ticket(day: date, hour: int, *, wait: int = 300, service: int = 600, outcome: str | None = "served"):
    at = datetime(day.year, day.month, day.day, hour, 10, tzinfo=SHANGHAI)
    return TicketFigures(issued_at=at, day=day, outcome=outcome, wait_seconds=wait if outcome == "served" else None,
                         service_seconds=service if outcome == "served" else None)


def test_figures_by_month_week_weekday_and_hour():
    tickets = [_ticket(MONDAY, 9), _ticket(MONDAY, 9), _ticket(MONDAY + timedelta(days=1), 14, outcome="no_show"),
               _ticket(date(2026, 12, 1), 9)]
    figures = hall_figures(tickets, township_id="qingshui", first_day=MONDAY, last_day=date(2026, 12, 1),
                           target_wait_minutes=15)
    assert [(m.key, m.label, m.visitors) for m in figures.by_month] == [("2026-11", "2026年11月", 3),
                                                                          ("2026-12", "2026年12月", 1)]
    assert [(w.key, w.label, w.visitors) for w in figures.by_week] == [("2026-W48", "2026年第48周", 3),
                                                                         ("2026-W49", "2026年第49周", 1)]
    assert [(d.name, d.visitors, d.days_open) for d in figures.by_weekday] == [("星期一", 2, 1), ("星期二", 2, 2)]
    assert [(h.hour, h.visitors) for h in figures.by_hour] == [(9, 3), (14, 1)]
    assert figures.total.no_show == 1 and figures.total.wait.p50 == 300.0


def test_a_busy_hour_needs_more_windows_than_a_quiet_one():
    # Mondays at 9: 12 visitors each of two Mondays, 10 minutes each; at 15: one visitor.
    mondays = [MONDAY, MONDAY + timedelta(days=7)]
    tickets = [_ticket(day, 9) for day in mondays for _ in range(12)] + [_ticket(MONDAY, 15)]
    figures = hall_figures(tickets, township_id="qingshui", first_day=MONDAY, last_day=mondays[-1],
                           target_wait_minutes=15)
    slots = {(s.weekday, s.hour): s for s in figures.staffing}
    busy, quiet = slots[(1, 9)], slots[(1, 15)]
    assert (busy.open_days, busy.arrivals_per_hour, busy.mean_service_minutes) == (2, 12.0, 10.0)
    assert busy.windows == 3 and busy.expected_wait_minutes is not None and busy.expected_wait_minutes <= 15
    assert (quiet.arrivals_per_hour, quiet.windows) == (0.5, 1)


def test_staffing_by_month_follows_the_season():
    busy = [_ticket(date(2026, 11, d), 9) for d in (2, 9) for _ in range(10)]  # November's Mondays: crowded
    calm = [_ticket(date(2026, 12, 7), 9)]
    figures = hall_figures(busy + calm, township_id="qingshui", first_day=date(2026, 11, 1),
                           last_day=date(2026, 12, 31), target_wait_minutes=15)
    by_month = {s.month: s.windows for s in figures.staffing_by_month if (s.weekday, s.hour) == (1, 9)}
    assert by_month["2026-11"] > by_month["2026-12"] == 1


def test_no_tickets_no_figures():
    figures = hall_figures([], township_id="qingshui", first_day=MONDAY, last_day=MONDAY, target_wait_minutes=15)
    assert figures.total.visitors == 0 and figures.staffing == [] and figures.by_month == []
