"""Staffing figures of the hall from its tickets: visitors, waiting and service times per hour and weekday.

Pure: the tickets come in, the figures go out. Every ticket counts in the hour and weekday it was
taken (Asia/Shanghai), so an hour's figures describe the people who arrived in it. Waiting time is
from taking the ticket to the start of service (served tickets only); service time from the start to
the end of service. Percentiles interpolate between ranks (as PostgreSQL's percentile_cont does).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, Field

from contracts.workdays import SHANGHAI

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@dataclass(frozen=True)
class TicketFigures:
    """What the statistics read of one ticket."""

    issued_at: datetime
    day: date  # the day it was taken, Asia/Shanghai
    outcome: str | None  # served | no_show | None while not ended
    wait_seconds: int | None  # to the start of service; None unless service started
    service_seconds: int | None  # None unless served


class Durations(BaseModel):
    count: int = Field(description="Tickets measured.", examples=[42])
    mean: float | None = Field(description="Mean seconds; null when none was measured.", examples=[512.4])
    p50: float | None = Field(description="Median seconds.", examples=[480.0])
    p90: float | None = Field(description="90th percentile, seconds: nine in ten took at most this.", examples=[900.0])


class Figures(BaseModel):
    visitors: int = Field(description="Tickets taken (取号人次).", examples=[57])
    served: int = Field(description="Tickets served at a window.", examples=[50])
    no_show: int = Field(description="Tickets called that nobody came for (过号).", examples=[4])
    not_ended: int = Field(description="Tickets never ended: never called, or left open at a window.", examples=[3])
    days_open: int = Field(description="Days of the range with at least one ticket (for this weekday, in by_weekday).",
                           examples=[21])
    visitors_per_day: float = Field(description="visitors / days_open.", examples=[2.71])
    window_hours_per_day: float = Field(
        description="Hours of service these visitors needed per open day; for one hour of the day it is the mean "
        "number of windows they kept busy (offered load). Staff more windows than this, or people queue.",
        examples=[1.35])
    wait: Durations = Field(description="From taking the ticket to the start of service (served tickets).")
    service: Durations = Field(description="From the start to the end of service (served tickets).")


class HourFigures(Figures):
    hour: int = Field(ge=0, le=23, description="Hour of the day the tickets were taken, Asia/Shanghai.", examples=[9])


class WeekdayFigures(Figures):
    weekday: int = Field(ge=1, le=7, description="ISO weekday the tickets were taken: 1 Monday … 7 Sunday.",
                         examples=[1])
    name: str = Field(description="The weekday in Chinese.", examples=["星期一"])


class HallStats(BaseModel):
    township_id: str
    first_day: date = Field(description="First day of the range, Asia/Shanghai.")
    last_day: date = Field(description="Last day of the range, included.")
    total: Figures
    by_hour: list[HourFigures] = Field(description="Hours with at least one visitor, in order.")
    by_weekday: list[WeekdayFigures] = Field(description="Weekdays with at least one visitor, in order.")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks of sorted values (at least one)."""
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    cuts = statistics.quantiles(sorted_values, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def durations(values: Iterable[int]) -> Durations:
    ordered = sorted(values)
    if not ordered:
        return Durations(count=0, mean=None, p50=None, p90=None)
    return Durations(count=len(ordered), mean=round(statistics.fmean(ordered), 1),
                     p50=round(percentile(ordered, 0.5), 1), p90=round(percentile(ordered, 0.9), 1))


def figures(tickets: Sequence[TicketFigures], *, days_open: int) -> dict:
    served = [t for t in tickets if t.outcome == "served"]
    service = [t.service_seconds for t in served if t.service_seconds is not None]
    per_day = max(days_open, 1)
    return {
        "visitors": len(tickets), "served": len(served),
        "no_show": sum(1 for t in tickets if t.outcome == "no_show"),
        "not_ended": sum(1 for t in tickets if t.outcome is None),
        "days_open": days_open, "visitors_per_day": round(len(tickets) / per_day, 2),
        "window_hours_per_day": round(sum(service) / 3600 / per_day, 2),
        "wait": durations(t.wait_seconds for t in served if t.wait_seconds is not None),
        "service": durations(service),
    }


def hall_stats(tickets: Iterable[TicketFigures], *, township_id: str, first_day: date, last_day: date) -> HallStats:
    """The figures of the tickets taken from first_day to last_day (the caller selects them)."""
    every = list(tickets)
    by_hour: dict[int, list[TicketFigures]] = defaultdict(list)
    by_weekday: dict[int, list[TicketFigures]] = defaultdict(list)
    for ticket in every:
        by_hour[ticket.issued_at.astimezone(SHANGHAI).hour].append(ticket)
        by_weekday[ticket.day.isoweekday()].append(ticket)
    open_days = {t.day for t in every}
    return HallStats(
        township_id=township_id, first_day=first_day, last_day=last_day,
        total=Figures(**figures(every, days_open=len(open_days))),
        # An hour's visitors per open day count the days nobody came at that hour as zero.
        by_hour=[HourFigures(hour=h, **figures(by_hour[h], days_open=len(open_days))) for h in sorted(by_hour)],
        by_weekday=[WeekdayFigures(weekday=d, name=WEEKDAYS[d - 1],
                                   **figures(by_weekday[d], days_open=len({t.day for t in by_weekday[d]})))
                    for d in sorted(by_weekday)],
    )
