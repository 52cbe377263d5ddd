"""Staffing figures of the hall from its tickets: visitors, waiting and service times per hour and weekday.

Every ticket counts in the hour and weekday it was taken (Asia/Shanghai), so an hour's figures describe
the people who arrived in it. The figures themselves, shared with audit, are in services.kit.hall_figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, Field

from contracts.workdays import SHANGHAI
from services.kit.hall_figures import WEEKDAYS, Figures, HourFigures, TicketFigures, WeekdayFigures, figures


class HallStats(BaseModel):
    township_id: str
    first_day: date = Field(description="First day of the range, Asia/Shanghai.")
    last_day: date = Field(description="Last day of the range, included.")
    total: Figures
    by_hour: list[HourFigures] = Field(description="Hours with at least one visitor, in order.")
    by_weekday: list[WeekdayFigures] = Field(description="Weekdays with at least one visitor, in order.")


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
