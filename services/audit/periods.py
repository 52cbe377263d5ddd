"""The period an inspector's query covers: Beijing calendar days in, UTC instants out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from contracts.errors import DomainError
from contracts.workdays import SHANGHAI

MAX_PERIOD_DAYS = 3 * 366  # three years: a season compared with the same season before
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # no record lies outside; bounds keep dates sane


class PeriodReversed(DomainError):
    status, code, message = 422, "PERIOD_REVERSED", "查询期间不正确：结束日期早于开始日期"


class PeriodTooLong(DomainError):
    status, code, message = 422, "PERIOD_TOO_LONG", f"查询期间过长：最长{MAX_PERIOD_DAYS}天，请分段查询"


class PeriodRequired(DomainError):
    status, code, message = 422, "PERIOD_REQUIRED", "请同时指定查询期间的开始日期和结束日期"


class PeriodOutOfRange(DomainError):
    status, code, message = 422, "PERIOD_OUT_OF_RANGE", "查询日期须在2000年1月1日至2099年12月31日之间"


@dataclass(frozen=True)
class Period:
    """Beijing calendar days as instants: [start, end), either side open when not given."""

    first_day: date | None
    last_day: date | None

    @property
    def start(self) -> datetime | None:
        return datetime.combine(self.first_day, time(), SHANGHAI).astimezone(UTC) if self.first_day else None

    @property
    def end(self) -> datetime | None:
        """Exclusive: the midnight after the last day."""
        return (datetime.combine(self.last_day + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)
                if self.last_day else None)


def period(first_day: date | None, last_day: date | None, *, required: bool = False) -> Period:
    """The one check of every inspector's period: inside the years a log can hold, in order, at most
    MAX_PERIOD_DAYS long, both days given when `required`."""
    if required and (first_day is None or last_day is None):
        raise PeriodRequired()
    if any(day is not None and not EARLIEST_DAY <= day <= LATEST_DAY for day in (first_day, last_day)):
        raise PeriodOutOfRange()
    if first_day and last_day and last_day < first_day:
        raise PeriodReversed()
    if first_day and last_day and (last_day - first_day).days >= MAX_PERIOD_DAYS:
        raise PeriodTooLong()
    return Period(first_day, last_day)
