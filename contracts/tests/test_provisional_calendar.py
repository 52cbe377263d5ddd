"""The provisional calendar (暂定日历): years after the official ones, counted on the real `holidays` package."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import holidays
import pytest

from contracts import workdays
from contracts.workdays import CalendarYearUnknown, WorkingCalendar, default_calendar

# chinese_calendar 1.11.0 knows up to 2026: 2027 and 2028 are provisional by default.
LAST_OFFICIAL = 2026


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _write_2027(directory: Path) -> None:
    # Invented for the test (the real 2027 notice is not out): Spring Festival 02-05..02-11, make-up Sunday 02-14.
    payload = {
        "year": 2027,
        "holidays": {"2027-01-01": "元旦", **{d.isoformat(): "春节" for d in _days(date(2027, 2, 5), date(2027, 2, 11))}},
        "workdays": {"2027-02-14": "春节调休"},
    }
    (directory / "2027.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


@pytest.mark.unit
def test_package_follows_the_2025_holiday_rules():
    by_rule = holidays.China(years=2025)
    # Order No. 795: Spring Festival is four days (除夕 and 初一 to 初三), Labour Day two.
    assert {d for d in by_rule if date(2025, 1, 27) <= d <= date(2025, 1, 31)} == set(
        _days(date(2025, 1, 28), date(2025, 1, 31)))
    assert {date(2025, 5, 1), date(2025, 5, 2)} <= set(by_rule)


@pytest.mark.unit
def test_years_after_the_official_ones_are_provisional(cal):
    assert LAST_OFFICIAL in cal.official_years and LAST_OFFICIAL + 1 not in cal.official_years
    assert cal.provisional_years == {2027, 2028}
    assert cal.known_years == cal.official_years | {2027, 2028}
    assert cal.is_provisional(2027) and cal.is_provisional(2028)
    assert not cal.is_provisional(2026) and not cal.is_provisional(2029)
    assert cal.covers_year(2028) and not cal.covers_year(2029)


@pytest.mark.unit
def test_spring_festival_2027_is_not_working_in_the_provisional_calendar(cal):
    # 除夕 Fri 02-05, 初一 to 初三 Sat-Mon, the weekend days given on Tue 02-09 and Wed 02-10 (补假).
    for day in (date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)):
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(date(2027, 2, 4))
    assert cal.is_working_day(date(2027, 2, 11))


@pytest.mark.unit
def test_new_year_2027_is_off_and_a_plain_monday_works(cal):
    assert not cal.is_working_day(date(2027, 1, 1))
    assert date(2027, 3, 8).weekday() == 0
    assert cal.is_working_day(date(2027, 3, 8))


@pytest.mark.unit
def test_no_make_up_days_in_a_provisional_year(cal):
    weekends = [d for d in _days(date(2027, 1, 1), date(2027, 12, 31)) if d.weekday() >= 5]
    assert not any(cal.is_working_day(d) for d in weekends)


@pytest.mark.unit
def test_labour_and_national_day_2027(cal):
    for day in (date(2027, 5, 3), date(2027, 5, 4), date(2027, 10, 1), date(2027, 10, 4), date(2027, 10, 5)):
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(date(2027, 5, 5))


@pytest.mark.unit
def test_beyond_the_horizon_is_still_unknown(cal):
    with pytest.raises(CalendarYearUnknown) as info:
        cal.is_working_day(date(2029, 3, 5))
    assert info.value.year == 2029
    # What tests use as "a year nobody knows" still is one.
    unknown = max(cal.known_years) + 1
    assert not cal.covers_year(unknown)
    with pytest.raises(CalendarYearUnknown):
        cal.deadline_for(datetime(unknown, 3, 2, 2, tzinfo=UTC), 1)


@pytest.mark.unit
def test_a_december_deadline_reaches_into_the_provisional_year(cal):
    submitted = datetime(2026, 12, 14, 2, tzinfo=UTC)
    deadline = cal.deadline_for(submitted, 20)
    assert deadline.astimezone(workdays.SHANGHAI).year == 2027
    assert cal.deadline_is_provisional(submitted, deadline)
    short = cal.deadline_for(submitted, 3)
    assert not cal.deadline_is_provisional(submitted, short)


@pytest.mark.unit
def test_provisional_between(cal):
    assert not cal.provisional_between(date(2026, 12, 1), date(2026, 12, 31))
    assert cal.provisional_between(date(2026, 12, 1), date(2027, 1, 4))
    assert cal.provisional_between(date(2028, 3, 1), date(2028, 3, 5))
    assert not cal.provisional_between(date(2025, 1, 1), date(2026, 12, 31))


@pytest.mark.unit
def test_an_override_makes_2027_official_and_answers_for_its_make_up_day(tmp_path):
    provisional = WorkingCalendar(tmp_path)
    _write_2027(tmp_path)
    official = WorkingCalendar(tmp_path)
    make_up = date(2027, 2, 14)  # a Sunday
    assert make_up.weekday() == 6
    assert not provisional.is_working_day(make_up)
    assert official.is_working_day(make_up)
    assert not official.is_working_day(date(2027, 2, 11))  # a Thursday the official schedule gives off
    assert provisional.is_working_day(date(2027, 2, 11))
    assert not official.is_provisional(2027) and 2027 in official.official_years
    # The horizon moves on with the official years.
    assert official.provisional_years == {2028, 2029}


@pytest.mark.unit
def test_a_far_override_does_not_move_the_horizon(tmp_path):
    (tmp_path / "2099.json").write_text(json.dumps(
        {"year": 2099, "holidays": {"2099-01-01": "元旦"}, "workdays": {}}), encoding="utf-8")
    cal = WorkingCalendar(tmp_path)
    assert cal.provisional_years == {2027, 2028}
    assert not cal.is_provisional(2099) and not cal.covers_year(2050)


@pytest.mark.unit
def test_horizon_zero_turns_the_provisional_calendar_off():
    cal = WorkingCalendar(provisional_years=0)
    assert cal.provisional_years == frozenset()
    with pytest.raises(CalendarYearUnknown):
        cal.is_working_day(date(2027, 3, 8))


@pytest.mark.unit
@pytest.mark.parametrize("bad", [-1, 11])
def test_horizon_out_of_range_is_refused(bad):
    with pytest.raises(ValueError):
        WorkingCalendar(provisional_years=bad)


@pytest.fixture
def fresh_default(monkeypatch):
    default_calendar.cache_clear()
    monkeypatch.delenv(workdays.CALENDAR_DIR_ENV, raising=False)
    yield monkeypatch
    default_calendar.cache_clear()


@pytest.mark.unit
def test_horizon_from_the_environment(fresh_default):
    fresh_default.setenv(workdays.PROVISIONAL_YEARS_ENV, "1")
    cal = default_calendar()
    assert cal.provisional_years == {2027}
    assert not cal.covers_year(2028)


@pytest.mark.unit
@pytest.mark.parametrize("raw", ["two", "-1", "1.5", "99"])
def test_bad_horizon_in_the_environment_is_refused(fresh_default, raw):
    fresh_default.setenv(workdays.PROVISIONAL_YEARS_ENV, raw)
    with pytest.raises(ValueError):
        default_calendar()
