"""The pure gap rules: which versions a new one opens or closes, and when an open gap is overdue."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from services.audit.gaps import GapChange, OpenGap, age, gap_change, is_overdue
from services.audit.tests.builders import T0

pytestmark = pytest.mark.unit


def test_the_next_version_opens_and_closes_nothing():
    assert gap_change(highest=0, version=1) == GapChange(opened=[], closes=None)
    assert gap_change(highest=4, version=5) == GapChange(opened=[], closes=None)


def test_a_version_ahead_opens_a_gap_for_each_skipped_one():
    assert gap_change(highest=1, version=4) == GapChange(opened=[2, 3], closes=None)
    assert gap_change(highest=0, version=3) == GapChange(opened=[1, 2], closes=None)


def test_a_late_version_closes_its_gap():
    assert gap_change(highest=4, version=2) == GapChange(opened=[], closes=2)


def test_a_forged_huge_version_opens_a_bounded_number_of_gaps():
    change = gap_change(highest=0, version=2_000_000_000, limit=1000)
    assert change.opened == list(range(1, 1001))


def test_a_gap_is_overdue_only_after_the_grace():
    gap = OpenGap(case_id=uuid4(), source="routing", version=2, detected_at=T0)
    grace = timedelta(hours=1)
    assert not is_overdue(gap, now=T0 + grace, grace=grace)
    assert is_overdue(gap, now=T0 + grace + timedelta(seconds=1), grace=grace)
    assert age(gap, T0 - timedelta(seconds=5)) == timedelta(0)  # a clock behind the detection is no negative age
