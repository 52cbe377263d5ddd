"""The period an inspector's query covers: Beijing calendar days in, UTC instants out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from contracts.errors import DomainError
from contracts.workdays import SHANGHAI

MAX_PERIOD_DAYS = 3 * 366  # three years: a season compared with the same season before
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # no record lies outside; bounds keep dates sane


class PeriodInvalid(DomainError):
    status, code, message = 422, "PERIOD_INVALID", f"查询期间无效：结束日期不得早于开始日期，且最长{MAX_PERIOD_DAYS}天"


@dataclass(frozen=True)
class Period:
    first_day: date | None
    last_day: date | None

    @property
    def start(self) -> datetime | None:
        return datetime.combine(self.first_day, time(), SHANGHAI) if self.first_day else None

    @property
    def end(self) -> datetime | None:
        """Exclusive: the midnight after the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), SHANGHAI) if self.last_day else None


class PeriodOutOfRange(DomainError):
    status, code, message = 422, "PERIOD_INVALID", "查询日期须在2000年1月1日至2099年12月31日之间"


def period(first_day: date | None, last_day: date | None, *, required: bool = False) -> Period:
    if required and (first_day is None or last_day is None):
        raise PeriodInvalid()
    if any(day is not None and not EARLIEST_DAY <= day <= LATEST_DAY for day in (first_day, last_day)):
        raise PeriodOutOfRange()
    if first_day and last_day and (last_day < first_day or (last_day - first_day).days >= MAX_PERIOD_DAYS):
        raise PeriodInvalid()
    return Period(first_day, last_day)
