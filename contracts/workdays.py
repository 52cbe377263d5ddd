"""Working-day arithmetic on the official Chinese calendar.

Every service counts statutory time limits (办理时限) with this module so that
all of them agree on what a "working day" is:

* Mondays to Fridays are working days, Saturdays and Sundays are not;
* statutory holidays (法定节假日) are not working days;
* make-up working days (调休上班), usually a Saturday or Sunday, are working days.

The per-year schedule comes from the ``chinese_calendar`` package, and can be
supplied or replaced per year by override files ``<year>.json`` in
``deploy/calendar/`` (see ``deploy/calendar/README.md``). Those are the
*official* years.

The few years right after the last official one (two by default,
``BIANMIN_CALENDAR_PROVISIONAL_YEARS``) are *provisional* (暂定日历): their
statutory holidays are computed by rule with the ``holidays`` package (lunar
dates included, a holiday falling on a weekend given on the next working day as
the law says), with no make-up working days, since those exist only once the
State Council publishes the year's schedule. A deadline counted into such a
year is marked provisional and recounted when the official schedule arrives.
A year beyond that horizon raises :class:`CalendarYearUnknown`: it is never
silently treated as a plain Monday-to-Friday year.

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
import holidays

__all__ = [
    "CALENDAR_DIR_ENV",
    "DEFAULT_PROVISIONAL_YEARS",
    "PROVISIONAL_MARK",
    "PROVISIONAL_YEARS_ENV",
    "SHANGHAI",
    "CalendarYearUnknown",
    "WorkingCalendar",
    "chinese_date",
    "default_calendar",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Environment variable that replaces the default override directory.
CALENDAR_DIR_ENV = "BIANMIN_CALENDAR_DIR"
#: Environment variable: how many years after the last official one count as provisional.
PROVISIONAL_YEARS_ENV = "BIANMIN_CALENDAR_PROVISIONAL_YEARS"
DEFAULT_PROVISIONAL_YEARS = 2
_MAX_PROVISIONAL_YEARS = 10

#: What residents read after a deadline counted on the provisional calendar.
PROVISIONAL_MARK = "（暂定，待国家公布节假日安排后确认）"

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
        # Beyond the provisional horizon too: only the official schedule helps.
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


def _provisional_schedule(year: int) -> _YearSchedule:
    """Statutory holidays of ``year`` by rule (全国年节及纪念日放假办法), from the ``holidays`` package.

    The package gives a holiday that falls on a weekend on the next working day
    (补假), as the law does. Make-up working days (调休) are only the ones the
    package itself knows for the year, which for a year not yet published is none.
    """
    by_rule = holidays.China(years=year)
    return _YearSchedule(
        frozenset(d for d in by_rule if d.year == year),
        frozenset(d for d in by_rule.weekend_workdays if d.year == year),
    )


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
    """Working-day calendar (Asia/Shanghai): official years, then a provisional horizon.

    Official years come from ``chinese_calendar``'s data, or from override files
    ``<year>.json`` in ``overrides_dir``. A year present in an override file is
    fully defined by that file, replacing the library's data for that year:
    listed holidays are non-working, listed workdays are working, and other
    days follow Monday-to-Friday. The directory is read and validated once, here;
    an invalid file raises :class:`ValueError` naming the file.

    The ``provisional_years`` years after the unbroken run of official years are
    counted on statutory holidays computed by rule (see the module docstring).
    """

    def __init__(
        self,
        overrides_dir: Path | None = None,
        *,
        provisional_years: int = DEFAULT_PROVISIONAL_YEARS,
    ) -> None:
        if not isinstance(provisional_years, int) or isinstance(provisional_years, bool):
            raise TypeError("provisional_years must be an int")
        if not 0 <= provisional_years <= _MAX_PROVISIONAL_YEARS:
            raise ValueError(
                f"provisional_years must be between 0 and {_MAX_PROVISIONAL_YEARS}, "
                f"got {provisional_years}"
            )
        self._overrides_dir = Path(overrides_dir) if overrides_dir is not None else None
        overrides = (
            _load_overrides(self._overrides_dir) if self._overrides_dir is not None else {}
        )
        self._schedules: dict[int, _YearSchedule] = {**_LIBRARY_SCHEDULES, **overrides}
        self._override_years = frozenset(overrides)
        self._official_years = frozenset(self._schedules)
        self._provisional_count = provisional_years
        # The horizon follows the unbroken run of official years: an override for a
        # far year (a test's 2099) does not make the years between it and now unknown.
        last_official = min(self._official_years)
        while last_official + 1 in self._official_years:
            last_official += 1
        self._provisional_years = frozenset(
            range(last_official + 1, last_official + 1 + provisional_years)
        ) - self._official_years
        for year in self._provisional_years:
            self._schedules[year] = _provisional_schedule(year)

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(overrides_dir={self._overrides_dir!r}, "
            f"provisional_years={self._provisional_count})"
        )

    @property
    def known_years(self) -> frozenset[int]:
        """Years deadlines can be counted in: the official ones and the provisional ones."""
        return frozenset(self._schedules)

    @property
    def official_years(self) -> frozenset[int]:
        """Years whose official schedule is available (library or override file)."""
        return self._official_years

    @property
    def provisional_years(self) -> frozenset[int]:
        """Years counted on statutory holidays by rule, pending the official schedule."""
        return self._provisional_years

    @property
    def override_years(self) -> frozenset[int]:
        """Years defined by an override file."""
        return self._override_years

    def covers_year(self, year: int) -> bool:
        """True if deadlines can be counted in ``year`` (officially or provisionally)."""
        return year in self._schedules

    def is_provisional(self, year: int) -> bool:
        """True if ``year`` is counted on the provisional calendar."""
        return year in self._provisional_years

    def provisional_between(self, start: date, end: date) -> bool:
        """True if any year in [start.year, end.year] is provisional.

        A deadline counted from ``start`` to ``end`` is provisional exactly then.
        """
        return any(
            self.is_provisional(year) for year in range(start.year, end.year + 1)
        )

    def deadline_is_provisional(self, submitted_at: datetime, deadline: datetime) -> bool:
        """Whether a deadline from :meth:`deadline_for` (or moved from one) was
        counted through a provisional year, both instants read in Asia/Shanghai."""
        return self.provisional_between(
            submitted_at.astimezone(SHANGHAI).date(), deadline.astimezone(SHANGHAI).date()
        )

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


def _provisional_years_from_env() -> int:
    raw = os.environ.get(PROVISIONAL_YEARS_ENV, "").strip()
    if not raw:
        return DEFAULT_PROVISIONAL_YEARS
    if not raw.isascii() or not raw.isdigit():
        raise ValueError(
            f"{PROVISIONAL_YEARS_ENV}={raw!r}: expected a whole number of years "
            f"(0 to {_MAX_PROVISIONAL_YEARS})"
        )
    return int(raw)


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The shared calendar, built once per process.

    Override files are read from ``<repo>/deploy/calendar``, or from the
    directory named by the ``BIANMIN_CALENDAR_DIR`` environment variable when it
    is set; the provisional horizon is ``BIANMIN_CALENDAR_PROVISIONAL_YEARS``
    (default 2, 0 turns the provisional calendar off). Both are read at the
    first call.
    """
    configured = os.environ.get(CALENDAR_DIR_ENV, "").strip()
    directory = Path(configured) if configured else _DEFAULT_OVERRIDES_DIR
    return WorkingCalendar(
        overrides_dir=directory, provisional_years=_provisional_years_from_env()
    )


def chinese_date(at: datetime) -> str:
    """`2026年12月7日`: the calendar day in Asia/Shanghai, as residents read dates."""
    day = at.astimezone(SHANGHAI).date()
    return f"{day.year}年{day.month}月{day.day}日"
