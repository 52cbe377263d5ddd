"""Working-day arithmetic on the official Chinese calendar.

Every service counts statutory time limits (办理时限) with this module so that
all of them agree on what a "working day" is:

* Mondays to Fridays are working days, Saturdays and Sundays are not;
* statutory holidays (法定节假日) are not working days;
* make-up working days (调休上班), usually a Saturday or Sunday, are working days.

The per-year schedule comes from the ``chinese_calendar`` package, and can be
supplied or replaced per year by override files ``<year>.json`` in
``deploy/calendar/`` (see ``deploy/calendar/README.md``). A year that is known
to neither source raises :class:`CalendarYearUnknown`: it is never silently
treated as a plain Monday-to-Friday year.

Counting rule
-------------
A case taken in on day D with a limit of N working days must be completed by
the end (23:59:59.999999, Asia/Shanghai) of the N-th working day after D. Day D
itself is never counted, whether or not it is a working day. A limit of 0
(即办件) means the end of D if D is a working day, else the end of the next
working day.

The module is pure: the only I/O is reading the override directory once, when a
:class:`WorkingCalendar` is constructed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "CALENDAR_DIR_ENV",
    "SHANGHAI",
    "CalendarYearUnknown",
    "WorkingCalendar",
    "chinese_date",
    "default_calendar",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Environment variable that replaces the default override directory.
CALENDAR_DIR_ENV = "BIANMIN_CALENDAR_DIR"

_REPO_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_OVERRIDES_DIR = _REPO_ROOT / "deploy" / "calendar"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_FILE = re.compile(r"^\d{4}$")
_ALLOWED_KEYS = {"year", "holidays", "workdays", "source", "note"}
_ONE_DAY = timedelta(days=1)


class CalendarYearUnknown(Exception):
    """The official holiday schedule of ``year`` is not available.

    ``code`` is a stable machine-readable identifier; ``message`` is meant for
    staff and is in Simplified Chinese.
    """

    code = "CALENDAR_YEAR_UNKNOWN"

    def __init__(self, year: int) -> None:
        self.year = year
        self.message = (
            f"工作日历未包含 {year} 年的法定节假日安排，"
            f"请在 deploy/calendar/ 中补充该年度的覆盖文件"
        )
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.year,))


@dataclass(frozen=True)
class _YearSchedule:
    holidays: frozenset[date]
    workdays: frozenset[date]


def _library_schedules() -> dict[int, _YearSchedule]:
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for d in chinese_calendar.holidays:
        holidays.setdefault(d.year, set()).add(d)
    for d in chinese_calendar.workdays:
        workdays.setdefault(d.year, set()).add(d)
    # A year is known to the library only if it lists its holidays.
    return {
        year: _YearSchedule(frozenset(days), frozenset(workdays.get(year, ())))
        for year, days in holidays.items()
    }


_LIBRARY_SCHEDULES = _library_schedules()


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _parse_day_table(
    path: Path, year: int, field: str, raw: Any
) -> frozenset[date]:
    if not isinstance(raw, dict):
        raise ValueError(
            f"calendar override {path}: {field!r} must be an object "
            f'mapping "YYYY-MM-DD" to a name'
        )
    days: set[date] = set()
    for key, name in raw.items():
        if not isinstance(key, str) or not _ISO_DATE.match(key):
            raise ValueError(
                f"calendar override {path}: {field} key {key!r} is not a "
                f"YYYY-MM-DD date"
            )
        try:
            day = date.fromisoformat(key)
        except ValueError:
            raise ValueError(
                f"calendar override {path}: {field} key {key!r} is not a valid date"
            ) from None
        if day.year != year:
            raise ValueError(
                f"calendar override {path}: {field} date {key} is outside year {year}"
            )
        if not isinstance(name, str) or not name.strip():
            raise ValueError(
                f"calendar override {path}: {field} date {key} needs a non-empty "
                f"name (e.g. the holiday it belongs to)"
            )
        days.add(day)
    return frozenset(days)


def _load_override_file(path: Path) -> tuple[int, _YearSchedule]:
    if not _YEAR_FILE.match(path.stem):
        raise ValueError(
            f"calendar override {path}: file name must be <year>.json, e.g. 2027.json"
        )
    try:
        data = json.loads(
            path.read_text(encoding="utf-8"),
            object_pairs_hook=_reject_duplicate_keys,
        )
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"calendar override {path}: cannot be read: {exc}") from exc

    if not isinstance(data, dict):
        raise ValueError(f"calendar override {path}: top level must be an object")
    unknown = set(data) - _ALLOWED_KEYS
    if unknown:
        raise ValueError(
            f"calendar override {path}: unknown keys {sorted(unknown)}; "
            f"allowed keys are {sorted(_ALLOWED_KEYS)}"
        )
    for required in ("year", "holidays", "workdays"):
        if required not in data:
            raise ValueError(f"calendar override {path}: missing key {required!r}")

    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise ValueError(f"calendar override {path}: 'year' must be an integer")
    if str(year) != path.stem:
        raise ValueError(
            f"calendar override {path}: 'year' is {year} but the file name says "
            f"{path.stem}"
        )

    holidays = _parse_day_table(path, year, "holidays", data["holidays"])
    workdays = _parse_day_table(path, year, "workdays", data["workdays"])
    if not holidays:
        raise ValueError(
            f"calendar override {path}: 'holidays' is empty; a year's official "
            f"schedule always lists its statutory holidays"
        )
    both = sorted(holidays & workdays)
    if both:
        raise ValueError(
            f"calendar override {path}: dates listed both as holiday and as "
            f"workday: {', '.join(d.isoformat() for d in both)}"
        )
    weekday_workdays = sorted(d for d in workdays if d.weekday() < 5)
    if weekday_workdays:
        raise ValueError(
            f"calendar override {path}: make-up workdays must fall on a Saturday "
            f"or Sunday; these are already ordinary working days: "
            f"{', '.join(d.isoformat() for d in weekday_workdays)}"
        )
    return year, _YearSchedule(holidays, workdays)


def _load_overrides(directory: Path) -> dict[int, _YearSchedule]:
    if not directory.is_dir():
        raise ValueError(f"calendar override directory {directory} does not exist")
    schedules: dict[int, _YearSchedule] = {}
    for path in sorted(directory.glob("*.json")):
        year, schedule = _load_override_file(path)
        schedules[year] = schedule
    return schedules


class WorkingCalendar:
    """Official working-day calendar (Asia/Shanghai).

    Years come from ``chinese_calendar``'s data, or from override files
    ``<year>.json`` in ``overrides_dir``. A year present in an override file is
    fully defined by that file, replacing the library's data for that year:
    listed holidays are non-working, listed workdays are working, and other
    days follow Monday-to-Friday. The directory is read and validated once, here;
    an invalid file raises :class:`ValueError` naming the file.
    """

    def __init__(self, overrides_dir: Path | None = None) -> None:
        self._overrides_dir = Path(overrides_dir) if overrides_dir is not None else None
        overrides = (
            _load_overrides(self._overrides_dir) if self._overrides_dir is not None else {}
        )
        self._schedules: dict[int, _YearSchedule] = {**_LIBRARY_SCHEDULES, **overrides}
        self._override_years = frozenset(overrides)

    def __repr__(self) -> str:
        return f"WorkingCalendar(overrides_dir={self._overrides_dir!r})"

    @property
    def known_years(self) -> frozenset[int]:
        """Years for which the official schedule is available."""
        return frozenset(self._schedules)

    @property
    def override_years(self) -> frozenset[int]:
        """Years defined by an override file."""
        return self._override_years

    def covers_year(self, year: int) -> bool:
        """True if the official schedule of ``year`` is available."""
        return year in self._schedules

    def _schedule(self, year: int) -> _YearSchedule:
        try:
            return self._schedules[year]
        except KeyError:
            raise CalendarYearUnknown(year) from None

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is an official working day.

        Raises :class:`CalendarYearUnknown` if ``d.year`` is not known.
        """
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(
                "is_working_day expects a datetime.date; convert datetimes to a "
                "local (Asia/Shanghai) date first"
            )
        schedule = self._schedule(d.year)
        if d in schedule.workdays:
            return True
        if d in schedule.holidays:
            return False
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """Return the n-th working day after ``start``.

        Rule: a case taken in on day D with a limit of N working days must be
        completed by the end of the N-th working day after D. ``start`` (D) is
        never counted, even when it is a working day; with ``n == 0`` the result
        is ``start`` if it is a working day, else the next working day.

        Raises :class:`ValueError` for negative ``n`` and
        :class:`CalendarYearUnknown` if the count reaches an unknown year.
        """
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("n must be an int")
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += _ONE_DAY
            return day
        remaining = n
        while remaining:
            day += _ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def deadline_for(self, submitted_at: datetime, limit_days: int) -> datetime:
        """Deadline of a case submitted at ``submitted_at`` with ``limit_days``.

        ``submitted_at`` must be timezone-aware (normally UTC); naive datetimes
        raise :class:`ValueError`. The submission day is the local date in
        Asia/Shanghai. The deadline is the end (23:59:59.999999 local) of
        ``add_working_days(local_date, limit_days)``, returned in UTC. With
        ``limit_days == 0`` (即办件) that is the end of the submission day if it
        is a working day, else the end of the next working day.
        """
        if submitted_at.tzinfo is None or submitted_at.utcoffset() is None:
            raise ValueError("submitted_at must be timezone-aware (UTC)")
        local_date = submitted_at.astimezone(SHANGHAI).date()
        due = self.add_working_days(local_date, limit_days)
        end_of_day = datetime.combine(due, time.max, tzinfo=SHANGHAI)
        return end_of_day.astimezone(UTC)

    def is_provisional(self, year: int) -> bool:
        """Whether ``year`` is counted on a provisional calendar (none yet: every known year is official)."""
        return False

    def provisional_between(self, start: date, end: date) -> bool:
        """Whether any year from ``start`` to ``end`` is provisional."""
        return any(self.is_provisional(y) for y in range(start.year, end.year + 1))

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in the half-open interval (start, end].

        Returns 0 when ``end <= start``.
        """
        if end <= start:
            return 0
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            if self.is_working_day(day):
                count += 1
            day += _ONE_DAY
        return count


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The shared calendar, built once per process.

    Override files are read from ``<repo>/deploy/calendar``, or from the
    directory named by the ``BIANMIN_CALENDAR_DIR`` environment variable when it
    is set (read at the first call).
    """
    configured = os.environ.get(CALENDAR_DIR_ENV, "").strip()
    directory = Path(configured) if configured else _DEFAULT_OVERRIDES_DIR
    return WorkingCalendar(overrides_dir=directory)


def chinese_date(at: datetime) -> str:
    """`2026年12月7日`: the calendar day in Asia/Shanghai, as residents read dates."""
    day = at.astimezone(SHANGHAI).date()
    return f"{day.year}年{day.month}月{day.day}日"
