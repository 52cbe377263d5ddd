import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from contracts import workdays
from contracts.workdays import (
    CalendarYearUnknown,
    WorkingCalendar,
    default_calendar,
)

REPO_CALENDAR_DIR = Path(__file__).resolve().parents[2] / "deploy" / "calendar"
UTC = UTC


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    # Library data only, independent of whatever override files are deployed.
    return WorkingCalendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _write(directory: Path, name: str, payload: object) -> Path:
    path = directory / name
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


# 2099 is far beyond any published schedule. Invented dates, for tests only.
VALID_2099 = {
    "year": 2099,
    "holidays": {
        "2099-01-01": "元旦",
        "2099-01-02": "元旦",
        "2099-01-05": "元旦",
    },
    "workdays": {"2099-01-10": "元旦调休"},
}


# --- real calendar facts (chinese_calendar data) ---------------------------


@pytest.mark.unit
def test_national_day_and_mid_autumn_2025_are_holidays(cal):
    for d in _days(date(2025, 10, 1), date(2025, 10, 8)):
        assert not cal.is_working_day(d), d
    assert cal.is_working_day(date(2025, 9, 30))
    assert cal.is_working_day(date(2025, 10, 9))


@pytest.mark.unit
def test_2025_make_up_weekend_days_are_working_days(cal):
    assert date(2025, 9, 28).weekday() == 6  # Sunday
    assert date(2025, 10, 11).weekday() == 5  # Saturday
    assert cal.is_working_day(date(2025, 9, 28))
    assert cal.is_working_day(date(2025, 10, 11))
    # An ordinary weekend stays non-working.
    assert not cal.is_working_day(date(2025, 10, 12))
    assert not cal.is_working_day(date(2025, 9, 27))


@pytest.mark.unit
def test_spring_festival_2026(cal):
    # chinese_calendar 1.11.0: 2026-02-15 (Sun) .. 2026-02-23 (Mon) off,
    # make-up working Saturdays 2026-02-14 and 2026-02-28.
    for d in _days(date(2026, 2, 15), date(2026, 2, 23)):
        assert not cal.is_working_day(d), d
    assert date(2026, 2, 14).weekday() == 5
    assert date(2026, 2, 28).weekday() == 5
    assert cal.is_working_day(date(2026, 2, 14))
    assert cal.is_working_day(date(2026, 2, 28))
    assert cal.is_working_day(date(2026, 2, 24))


@pytest.mark.unit
@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_agrees_with_chinese_calendar_for_whole_years(cal, year):
    for d in _days(date(year, 1, 1), date(year, 12, 31)):
        assert cal.is_working_day(d) == chinese_calendar.is_workday(d), d


@pytest.mark.unit
def test_known_years_cover_library_data(cal):
    assert set(range(2004, 2027)) <= cal.known_years
    assert cal.covers_year(2026)
    assert not cal.covers_year(2099)
    assert cal.override_years == frozenset()


@pytest.mark.unit
def test_is_working_day_rejects_datetime(cal):
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2025, 10, 9, 12, 0, tzinfo=UTC))


# --- add_working_days --------------------------------------------------------


@pytest.mark.unit
def test_add_working_days_ordinary_week(cal):
    # Tuesday 2026-03-03 + 1 -> Wednesday; + 4 -> Monday after the weekend.
    assert cal.add_working_days(date(2026, 3, 3), 1) == date(2026, 3, 4)
    assert cal.add_working_days(date(2026, 3, 3), 4) == date(2026, 3, 9)


@pytest.mark.unit
def test_add_working_days_across_national_day(cal):
    assert cal.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # 10-09 Thu, 10-10 Fri, 10-11 Sat (make-up working day).
    assert cal.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert cal.add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 13)


@pytest.mark.unit
def test_add_working_days_across_spring_festival_2026(cal):
    # Friday 2026-02-13 -> the make-up Saturday counts, then the holiday.
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


@pytest.mark.unit
def test_add_working_days_start_on_holiday_is_not_counted(cal):
    assert cal.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 9)


@pytest.mark.unit
def test_add_zero_working_days(cal):
    assert cal.add_working_days(date(2025, 10, 9), 0) == date(2025, 10, 9)
    assert cal.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 9)
    assert cal.add_working_days(date(2025, 9, 28), 0) == date(2025, 9, 28)
    assert cal.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)


@pytest.mark.unit
def test_add_working_days_rejects_negative(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 3, 3), -1)


# --- deadline_for ------------------------------------------------------------


@pytest.mark.unit
def test_deadline_uses_shanghai_date(cal):
    # 2026-03-02T17:30Z is 2026-03-03 01:30 in Shanghai (Tuesday).
    submitted = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
    # End of Wednesday 2026-03-04 in Shanghai = 15:59:59.999999Z.
    assert cal.deadline_for(submitted, 1) == datetime(
        2026, 3, 4, 15, 59, 59, 999999, tzinfo=UTC
    )
    assert cal.deadline_for(submitted, 0) == datetime(
        2026, 3, 3, 15, 59, 59, 999999, tzinfo=UTC
    )


@pytest.mark.unit
def test_deadline_same_utc_day_before_shanghai_midnight(cal):
    # 2026-03-02T15:59Z is 23:59 on Monday 2026-03-02 in Shanghai.
    submitted = datetime(2026, 3, 2, 15, 59, tzinfo=UTC)
    assert cal.deadline_for(submitted, 1) == datetime(
        2026, 3, 3, 15, 59, 59, 999999, tzinfo=UTC
    )


@pytest.mark.unit
def test_deadline_result_is_utc_and_end_of_local_day(cal):
    result = cal.deadline_for(datetime(2025, 9, 29, 2, 0, tzinfo=UTC), 5)
    assert result.utcoffset() == timedelta(0)
    local = result.astimezone(workdays.SHANGHAI)
    # Mon 09-29 + 5: 09-30, 10-09, 10-10, 10-11 (Sat make-up), 10-13.
    assert local.date() == date(2025, 10, 13)
    assert (local.hour, local.minute, local.second, local.microsecond) == (
        23,
        59,
        59,
        999999,
    )


@pytest.mark.unit
def test_immediate_case_submitted_on_holiday(cal):
    # 10:00 on 2025-10-01 in Shanghai, a holiday: due end of 2025-10-09.
    submitted = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)
    assert cal.deadline_for(submitted, 0) == datetime(
        2025, 10, 9, 15, 59, 59, 999999, tzinfo=UTC
    )


@pytest.mark.unit
def test_immediate_case_submitted_on_make_up_saturday(cal):
    # 2026-02-13T16:30Z is 00:30 on Saturday 2026-02-14, a make-up working day.
    submitted = datetime(2026, 2, 13, 16, 30, tzinfo=UTC)
    assert cal.deadline_for(submitted, 0) == datetime(
        2026, 2, 14, 15, 59, 59, 999999, tzinfo=UTC
    )


@pytest.mark.unit
def test_deadline_accepts_other_aware_timezones(cal):
    utc = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
    shanghai = utc.astimezone(workdays.SHANGHAI)
    assert cal.deadline_for(shanghai, 3) == cal.deadline_for(utc, 3)


@pytest.mark.unit
def test_deadline_rejects_naive_datetime(cal):
    with pytest.raises(ValueError):
        cal.deadline_for(datetime(2026, 3, 2, 17, 30), 1)


# --- working_days_between ----------------------------------------------------


@pytest.mark.unit
def test_working_days_between(cal):
    # (09-30, 10-12]: 10-09, 10-10, 10-11.
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 12)) == 3
    # (09-26, 09-30]: 09-28 (Sun make-up), 09-29, 09-30.
    assert cal.working_days_between(date(2025, 9, 26), date(2025, 9, 30)) == 3
    assert cal.working_days_between(date(2025, 10, 9), date(2025, 10, 9)) == 0
    assert cal.working_days_between(date(2025, 10, 9), date(2025, 10, 1)) == 0


@pytest.mark.unit
def test_working_days_between_is_inverse_of_add(cal):
    start = date(2026, 2, 10)
    for n in range(1, 30):
        end = cal.add_working_days(start, n)
        assert cal.working_days_between(start, end) == n


# --- unknown years -----------------------------------------------------------


@pytest.mark.unit
def test_unknown_year_raises(cal):
    with pytest.raises(CalendarYearUnknown) as info:
        cal.is_working_day(date(2099, 3, 3))
    exc = info.value
    assert exc.year == 2099
    assert exc.code == "CALENDAR_YEAR_UNKNOWN"
    assert "2099" in exc.message
    assert "法定节假日" in exc.message
    assert "deploy/calendar/" in exc.message
    assert str(exc) == exc.message


@pytest.mark.unit
def test_unknown_year_raises_from_deadline(cal):
    with pytest.raises(CalendarYearUnknown):
        cal.deadline_for(datetime(2099, 3, 3, 1, 0, tzinfo=UTC), 1)
    with pytest.raises(CalendarYearUnknown):
        cal.working_days_between(date(2099, 3, 1), date(2099, 3, 5))


@pytest.mark.unit
def test_counting_into_unknown_year_raises(tmp_path):
    _write(
        tmp_path,
        "2098.json",
        {"year": 2098, "holidays": {"2098-01-01": "元旦"}, "workdays": {}},
    )
    cal = WorkingCalendar(tmp_path)
    with pytest.raises(CalendarYearUnknown) as info:
        cal.add_working_days(date(2098, 12, 29), 10)
    assert info.value.year == 2099


# --- override files ----------------------------------------------------------


@pytest.mark.unit
def test_override_file_defines_year(tmp_path):
    _write(tmp_path, "2099.json", VALID_2099)
    cal = WorkingCalendar(overrides_dir=tmp_path)
    assert cal.covers_year(2099)
    assert cal.override_years == frozenset({2099})
    assert date(2099, 1, 1).weekday() == 3  # Thursday
    assert not cal.is_working_day(date(2099, 1, 1))
    assert not cal.is_working_day(date(2099, 1, 2))
    assert not cal.is_working_day(date(2099, 1, 3))  # ordinary Saturday
    assert not cal.is_working_day(date(2099, 1, 5))
    assert cal.is_working_day(date(2099, 1, 6))
    assert cal.is_working_day(date(2099, 1, 10))  # make-up Saturday
    assert not cal.is_working_day(date(2099, 1, 11))  # ordinary Sunday
    # Wed 2098-12-31 is unknown, but counting from 2099-01-01 works.
    assert cal.add_working_days(date(2099, 1, 1), 2) == date(2099, 1, 7)
    assert cal.deadline_for(datetime(2099, 1, 1, 3, 0, tzinfo=UTC), 0) == datetime(
        2099, 1, 6, 15, 59, 59, 999999, tzinfo=UTC
    )
    # Library years still work alongside overrides.
    assert not cal.is_working_day(date(2025, 10, 1))


@pytest.mark.unit
def test_override_replaces_library_year(tmp_path):
    _write(
        tmp_path,
        "2025.json",
        {"year": 2025, "holidays": {"2025-01-01": "元旦"}, "workdays": {}},
    )
    cal = WorkingCalendar(tmp_path)
    assert cal.is_working_day(date(2025, 10, 1))
    assert not cal.is_working_day(date(2025, 9, 28))
    assert not cal.is_working_day(date(2025, 1, 1))


@pytest.mark.unit
def test_non_json_files_are_ignored(tmp_path):
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    _write(tmp_path, "2099.json.sample", "not json at all")
    cal = WorkingCalendar(tmp_path)
    assert not cal.covers_year(2099)


def _with(**changes):
    payload = json.loads(json.dumps(VALID_2099))
    payload.update(changes)
    return payload


MALFORMED = {
    "invalid_json": ("2099.json", '{"year": 2099, "holidays": {'),
    "top_level_list": ("2099.json", []),
    "missing_workdays": (
        "2099.json",
        {"year": 2099, "holidays": {"2099-01-01": "元旦"}},
    ),
    "unknown_key": ("2099.json", _with(holiday={})),
    "year_not_int": ("2099.json", _with(year="2099")),
    "year_mismatch_file_name": ("2098.json", VALID_2099),
    "bad_file_name": ("calendar-2099.json", VALID_2099),
    "holiday_outside_year": (
        "2099.json",
        _with(holidays={"2099-01-01": "元旦", "2100-01-01": "元旦"}),
    ),
    "workday_outside_year": ("2099.json", _with(workdays={"2098-12-27": "调休"})),
    "bad_date_format": ("2099.json", _with(holidays={"2099/01/01": "元旦"})),
    "impossible_date": ("2099.json", _with(holidays={"2099-02-30": "春节"})),
    "both_holiday_and_workday": (
        "2099.json",
        _with(workdays={"2099-01-02": "元旦调休"}),
    ),
    "weekday_listed_as_workday": (
        "2099.json",
        _with(workdays={"2099-01-07": "调休"}),
    ),
    "empty_holidays": ("2099.json", _with(holidays={})),
    "empty_name": ("2099.json", _with(holidays={"2099-01-01": ""})),
    "holidays_not_object": ("2099.json", _with(holidays=["2099-01-01"])),
    "duplicate_key": (
        "2099.json",
        '{"year": 2099, "holidays": {"2099-01-01": "元旦", "2099-01-01": "元旦"},'
        ' "workdays": {}}',
    ),
}


@pytest.mark.unit
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_override_raises_value_error_naming_file(tmp_path, case):
    name, payload = MALFORMED[case]
    path = _write(tmp_path, name, payload)
    with pytest.raises(ValueError) as info:
        WorkingCalendar(overrides_dir=tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.unit
def test_missing_override_directory_raises(tmp_path):
    with pytest.raises(ValueError):
        WorkingCalendar(tmp_path / "does-not-exist")


@pytest.mark.unit
def test_shipped_sample_has_valid_format(tmp_path):
    sample = REPO_CALENDAR_DIR / "example-year.json.sample"
    year = json.loads(sample.read_text(encoding="utf-8"))["year"]
    shutil.copy(sample, tmp_path / f"{year}.json")
    cal = WorkingCalendar(tmp_path)
    assert year in cal.override_years


# --- default calendar --------------------------------------------------------


@pytest.fixture
def fresh_default(monkeypatch):
    default_calendar.cache_clear()
    yield monkeypatch
    default_calendar.cache_clear()


@pytest.mark.unit
def test_default_calendar_loads_repo_directory(fresh_default):
    fresh_default.delenv(workdays.CALENDAR_DIR_ENV, raising=False)
    cal = default_calendar()
    assert cal is default_calendar()
    assert cal._overrides_dir == REPO_CALENDAR_DIR
    assert not cal.is_working_day(date(2025, 10, 1))


@pytest.mark.unit
def test_default_calendar_env_override(fresh_default, tmp_path):
    _write(tmp_path, "2099.json", VALID_2099)
    fresh_default.setenv(workdays.CALENDAR_DIR_ENV, str(tmp_path))
    cal = default_calendar()
    assert cal.covers_year(2099)
    assert cal.is_working_day(date(2099, 1, 10))
