"""Periods of the inspectors' queries: Beijing days to UTC instants, and the bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.audit.periods import PeriodOutOfRange, PeriodRequired, PeriodReversed, PeriodTooLong, period


def test_a_period_runs_from_beijing_midnight_to_the_midnight_after_its_last_day():
    span = period(date(2026, 11, 1), date(2026, 11, 30))
    assert span.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert span.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert period(None, None).start is None


@pytest.mark.parametrize(("first", "last", "refused"), [
    (date(2026, 11, 30), date(2026, 11, 1), PeriodReversed),
    (date(2020, 1, 1), date(2020, 1, 1).replace(year=2020 + 4), PeriodTooLong),
    (date(1999, 12, 31), date(2000, 1, 2), PeriodOutOfRange),
    (date(2099, 12, 31), date(9999, 12, 31), PeriodOutOfRange),
])
def test_reversed_long_and_out_of_range_periods_are_refused(first, last, refused):
    with pytest.raises(refused) as error:
        period(first, last)
    assert error.value.code.startswith("PERIOD_") and ("日期" in error.value.message or "期间" in error.value.message)


def test_a_required_period_needs_both_days():
    with pytest.raises(PeriodRequired):
        period(date(2026, 11, 1), None, required=True)
    assert period(date(2026, 1, 1), date(2026, 1, 1).replace(year=2028)).last_day.year == 2028  # within the limit
