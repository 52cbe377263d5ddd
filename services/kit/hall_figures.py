"""The hall's figures from its tickets, shared by intake's hall statistics and audit's county-wide figures:
visitors, waiting and service times, and how many windows keep the wait short.

Pure: the tickets come in, the figures go out. Waiting time is from taking the ticket to the start of
service (served tickets only); service time from the start to the end of service. Percentiles
interpolate between ranks (as PostgreSQL's percentile_cont does).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, Field

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


# Staffing: how many windows keep the expected wait under a target (docs/adr/0034-inspectors-timeline-ledger.md).
MAX_WINDOWS = 60  # no township hall has more; an absurd load stops here instead of looping


def erlang_c(windows: int, load: float) -> float:
    """The probability that a visitor has to wait, with `windows` open and `load` Erlangs offered
    (arrivals per hour × mean service hours): Erlang C, through the numerically stable Erlang B recursion."""
    if load <= 0:
        return 0.0
    if windows <= load:
        return 1.0
    blocking = 1.0
    for k in range(1, windows + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking / (1 - (load / windows) * (1 - blocking))


def expected_wait_seconds(windows: int, *, arrivals_per_hour: float, mean_service_seconds: float) -> float:
    """Mean wait of an M/M/c queue: C(c, a) × service time / (c − a); infinite when the windows cannot keep up."""
    load = arrivals_per_hour * mean_service_seconds / 3600
    if load <= 0:
        return 0.0
    if windows <= load:
        return float("inf")
    return erlang_c(windows, load) * mean_service_seconds / (windows - load)


def windows_needed(*, arrivals_per_hour: float, mean_service_seconds: float, target_wait_seconds: float) -> int:
    """The fewest windows whose expected wait is at most the target (0 when nobody comes)."""
    if arrivals_per_hour <= 0:
        return 0
    load = arrivals_per_hour * max(mean_service_seconds, 0.0) / 3600
    windows = math.floor(load) + 1  # the fewest that can keep up at all: more windows than Erlangs
    while windows < MAX_WINDOWS and expected_wait_seconds(
            windows, arrivals_per_hour=arrivals_per_hour, mean_service_seconds=mean_service_seconds) > target_wait_seconds:
        windows += 1
    return windows
