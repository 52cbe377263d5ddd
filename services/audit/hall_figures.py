"""The county's hall figures for inspectors and centre heads: visitors and waits by month, ISO week, weekday and
hour, and how many windows each weekday-hour needs, over the whole period and month by month (the seasons).

Pure: tickets in (from the hall_visits projection), figures out. Every ticket counts in the hour, weekday, week
and month it was taken, Beijing time. A slot's arrival rate is its visitors divided by the open days of its
weekday (days of that weekday with any ticket, in the period or the month), so days nobody came at that hour
count as zero; the windows needed are Erlang C's (services.kit.hall_figures.windows_needed) for that rate and
the slot's mean service time (the period's, when nobody was served in the slot).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date

from pydantic import BaseModel, Field

from contracts.workdays import SHANGHAI
from services.kit.hall_figures import (
    WEEKDAYS,
    Figures,
    HourFigures,
    TicketFigures,
    WeekdayFigures,
    expected_wait_seconds,
    figures,
    windows_needed,
)


class SpanFigures(Figures):
    key: str = Field(description="The month (YYYY-MM) or ISO week (YYYY-Www).", examples=["2026-11"])
    label: str = Field(description="The same in Chinese.", examples=["2026年11月"])


class StaffingSlot(BaseModel):
    month: str | None = Field(description="The month (YYYY-MM) the slot describes; null over the whole period.",
                              examples=["2026-11"])
    weekday: int = Field(ge=1, le=7, description="ISO weekday: 1 Monday … 7 Sunday.", examples=[1])
    weekday_name: str = Field(examples=["星期一"])
    hour: int = Field(ge=0, le=23, description="Hour of the day, Beijing time.", examples=[9])
    open_days: int = Field(description="Days of this weekday the hall was open (had any ticket).", examples=[4])
    visitors: int = Field(description="Tickets taken in this slot on those days.", examples=[38])
    arrivals_per_hour: float = Field(description="visitors / open_days.", examples=[9.5])
    mean_service_minutes: float | None = Field(description="Mean service time used.", examples=[8.2])
    windows: int = Field(description="Windows to open so the expected wait stays under the target (Erlang C).",
                         examples=[2])
    expected_wait_minutes: float | None = Field(description="Expected wait with that many windows.", examples=[4.1])


class HallFigures(BaseModel):
    township_id: str = Field(examples=["qingshui"])
    first_day: date = Field(description="First day, Beijing time.")
    last_day: date = Field(description="Last day, included.")
    target_wait_minutes: float = Field(description="The wait staffing aims under (AUDIT_TARGET_WAIT_MINUTES).",
                                       examples=[15])
    total: Figures
    by_month: list[SpanFigures] = Field(description="Months with at least one visitor, in order.")
    by_week: list[SpanFigures] = Field(description="ISO weeks with at least one visitor, in order.")
    by_weekday: list[WeekdayFigures] = Field(description="Weekdays with at least one visitor, in order.")
    by_hour: list[HourFigures] = Field(description="Hours with at least one visitor, in order.")
    staffing: list[StaffingSlot] = Field(description="Windows needed per weekday and hour over the whole period.")
    staffing_by_month: list[StaffingSlot] = Field(description="The same month by month: staff for the season.")


def _month(t: TicketFigures) -> str:
    return f"{t.day.year}-{t.day.month:02d}"


def _week(t: TicketFigures) -> str:
    year, week, _ = t.day.isocalendar()
    return f"{year}-W{week:02d}"


def _hour(t: TicketFigures) -> int:
    return t.issued_at.astimezone(SHANGHAI).hour


def _groups(tickets: Iterable[TicketFigures], key: Callable[[TicketFigures], Hashable]) -> dict:
    grouped: dict = defaultdict(list)
    for ticket in tickets:
        grouped[key(ticket)].append(ticket)
    return dict(sorted(grouped.items()))


def _days(tickets: Iterable[TicketFigures]) -> int:
    return len({t.day for t in tickets})


def _mean_service(tickets: Sequence[TicketFigures]) -> float | None:
    served = [t.service_seconds for t in tickets if t.outcome == "served" and t.service_seconds is not None]
    return sum(served) / len(served) if served else None


def staffing(tickets: Sequence[TicketFigures], *, month: str | None, target_wait_seconds: float,
             fallback_service_seconds: float | None) -> list[StaffingSlot]:
    """Windows needed for each weekday-hour of `tickets` (one month's, or the whole period's)."""
    open_days = {day: _days(ts) for day, ts in _groups(tickets, lambda t: t.day.isoweekday()).items()}
    slots = []
    for (weekday, hour), slot in _groups(tickets, lambda t: (t.day.isoweekday(), _hour(t))).items():
        rate = len(slot) / open_days[weekday]
        service = _mean_service(slot) or fallback_service_seconds
        windows = windows_needed(arrivals_per_hour=rate, mean_service_seconds=service or 0.0,
                                 target_wait_seconds=target_wait_seconds) if service else 1
        wait = expected_wait_seconds(windows, arrivals_per_hour=rate, mean_service_seconds=service) if service else None
        slots.append(StaffingSlot(
            month=month, weekday=weekday, weekday_name=WEEKDAYS[weekday - 1], hour=hour, open_days=open_days[weekday],
            visitors=len(slot), arrivals_per_hour=round(rate, 2),
            mean_service_minutes=round(service / 60, 1) if service else None, windows=windows,
            expected_wait_minutes=round(wait / 60, 1) if wait is not None and wait != float("inf") else None))
    return slots


def hall_figures(tickets: Iterable[TicketFigures], *, township_id: str, first_day: date, last_day: date,
                 target_wait_minutes: float) -> HallFigures:
    every = list(tickets)
    target, fallback = target_wait_minutes * 60, _mean_service(every)
    months = _groups(every, _month)

    def spans(grouped: dict, label: Callable[[str], str]) -> list[SpanFigures]:
        return [SpanFigures(key=k, label=label(k), **figures(ts, days_open=_days(ts))) for k, ts in grouped.items()]

    open_days = _days(every)
    return HallFigures(
        township_id=township_id, first_day=first_day, last_day=last_day, target_wait_minutes=target_wait_minutes,
        total=Figures(**figures(every, days_open=open_days)),
        by_month=spans(months, lambda k: f"{k[:4]}年{int(k[5:])}月"),
        by_week=spans(_groups(every, _week), lambda k: f"{k[:4]}年第{int(k[6:])}周"),
        by_weekday=[WeekdayFigures(weekday=d, name=WEEKDAYS[d - 1], **figures(ts, days_open=_days(ts)))
                    for d, ts in _groups(every, lambda t: t.day.isoweekday()).items()],
        by_hour=[HourFigures(hour=h, **figures(ts, days_open=open_days)) for h, ts in _groups(every, _hour).items()],
        staffing=staffing(every, month=None, target_wait_seconds=target, fallback_service_seconds=fallback),
        staffing_by_month=[slot for month, ts in months.items()
                           for slot in staffing(ts, month=month, target_wait_seconds=target,
                                                fallback_service_seconds=fallback)],
    )
