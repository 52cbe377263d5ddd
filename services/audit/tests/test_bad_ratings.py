"""The bad-rating ledger's fold, states and rates (pure): order-independent rows, the county's dues before
audit's limits, and 回访率 / 整改率 counted over what was due."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.workdays import default_calendar
from services.audit import bad_ratings as br
from services.audit import labels
from services.audit import read_model as rm
from services.audit.anomalies import RULES, Limits
from services.audit.tests.bad_rating_builders import Loop
from services.audit.tests.builders import chain_of

pytestmark = pytest.mark.unit
RATED = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LIMITS = Limits(follow_up_working_days=1, rectification_working_days=5, resident_told_hours=24)
CAL = default_calendar()


def fold_all(events) -> dict:
    rows: dict = {}
    for e in events:
        for rating_id in br.rows_touched(e):
            rows[rating_id] = br.fold(rows.get(rating_id), rating_id, e)
    return rows


def logged(loop: Loop) -> list[rm.LoggedEvent]:
    return [rm.logged_event(r) for r in chain_of(loop.events)]


def row_of(loop: Loop) -> dict:
    return asdict(fold_all(logged(loop))[loop.rating.event_id])


def test_the_whole_loop_folds_to_one_row_in_any_order():
    loop = Loop("qingshui", "qs-01", RATED).opened().visited(after=timedelta(hours=3)).rectified(after=timedelta(days=2))
    events = logged(loop)
    rows = [fold_all(list(order)) for order in itertools.permutations(events)]
    assert all(r == rows[0] for r in rows)
    row = rows[0][loop.rating.event_id]
    assert (row.score, row.owner_staff_id, row.department_code, row.case_no) == (
        2, "qs-01", "social_security", loop.case_no)
    assert row.visit_due == RATED + timedelta(days=1) and row.rectification_due == RATED + timedelta(days=7)
    assert (row.visited_at, row.visit_on_time, row.complaint_holds) == (RATED + timedelta(hours=3), True, True)
    assert row.rectified_at == RATED + timedelta(days=2) and row.measures == "已在窗口公示材料清单"
    assert br.state_of(asdict(row), NOW, LIMITS, CAL) == "rectified"


def test_a_good_rating_has_no_row_and_a_second_rating_stays_beside_the_first():
    good = Loop("qingshui", "qs-01", RATED, score=4)
    assert fold_all(logged(good)) == {}
    loop = Loop("qingshui", "qs-01", RATED)
    [first] = logged(loop)
    second = rm.LoggedEvent(**{**first.__dict__, "event_id": first.event_id.__class__(int=first.event_id.int + 1),
                               "occurred_at": RATED + timedelta(days=9),
                               "payload": {"score": 5, "rating_round": 2, "follows_rating_id": str(first.event_id)}})
    rows = fold_all([second, first])
    assert list(rows) == [first.event_id]  # a good second rating: no row of its own
    assert (rows[first.event_id].score, rows[first.event_id].second_score) == (2, 5)


def test_a_later_visit_that_reaches_the_resident_gives_the_finding():
    loop = Loop("qingshui", "qs-01", RATED).opened().visited(after=timedelta(hours=2), holds=None)
    loop.visited(after=timedelta(hours=5), holds=False)
    row = row_of(loop)
    assert row["visited_at"] == RATED + timedelta(hours=2) and (row["reached"], row["complaint_holds"]) == (True, False)
    assert br.state_of(row, NOW, LIMITS, CAL) == "visited"  # unfounded: nothing to rectify, so never overdue
    assert RULES["rectification_overdue"](anomaly_row(row), NOW, LIMITS, CAL) is None


def anomaly_row(row: dict) -> dict:
    """A ledger row under the names the anomaly rules read (as anomaly_store selects it)."""
    return {**row, "rating_score": row["score"], "rating_excluded": bool(row["appeal_upheld"]),
            "followed_up_at": row["visited_at"], "staff_id": row["owner_staff_id"]}


@pytest.mark.parametrize(("build", "state"), [
    (lambda: Loop("q", "s", NOW - timedelta(hours=1)).opened(), "open"),
    (lambda: Loop("q", "s", RATED).opened(), "overdue"),
    (lambda: Loop("q", "s", RATED).opened().visited(after=timedelta(hours=1), holds=True), "overdue"),
    (lambda: Loop("q", "s", NOW - timedelta(hours=4)).opened().visited(after=timedelta(hours=1)), "visited"),
    (lambda: Loop("q", "s", NOW - timedelta(hours=4)).opened().appealed(after=timedelta(hours=1)), "appealed"),
    (lambda: Loop("q", "s", RATED).opened().appealed(after=timedelta(hours=1))
     .decided(after=timedelta(hours=2), upheld=True, head="h"), "appeal_upheld"),
    (lambda: Loop("q", "s", NOW - timedelta(hours=4)).opened().appealed(after=timedelta(hours=1))
     .decided(after=timedelta(hours=2), upheld=False, head="h"), "appeal_rejected"),
])
def test_each_state(build, state):
    assert br.state_of(row_of(build()), NOW, LIMITS, CAL) == state


def test_the_countys_dues_come_first_then_audits_limits():
    county = row_of(Loop("q", "s", RATED).opened(visit_days=3, rectification_days=15))
    assert br.dues(county, LIMITS, CAL) == br.Dues(RATED + timedelta(days=3), RATED + timedelta(days=15))
    bare = row_of(Loop("q", "s", RATED))
    assert br.dues(bare, LIMITS, CAL) == br.Dues(CAL.deadline_for(RATED, 1), CAL.deadline_for(RATED, 5))
    # The anomaly takes the county's visit due: three days, so a visit on day two is in time.
    late_for_audit = anomaly_row(row_of(Loop("q", "s", RATED).opened(visit_days=3).visited(after=timedelta(days=2))))
    assert RULES["bad_rating_without_follow_up"](late_for_audit, NOW, LIMITS, CAL) is None
    never = anomaly_row(county)
    found = RULES["bad_rating_without_follow_up"](never, NOW, LIMITS, CAL)
    assert found is not None and "2026-10-15 前回访" in found.summary and found.evidence[1] == county["opened_event_id"]


def test_rates_count_what_was_due_and_an_upheld_appeal_only_as_upheld():
    done = row_of(Loop("q", "s", RATED).opened().visited(after=timedelta(hours=3)).rectified(after=timedelta(days=2)))
    late = row_of(Loop("q", "s", RATED).opened().visited(after=timedelta(days=3), on_time=False))
    upheld = row_of(Loop("q", "s", RATED).opened().appealed(after=timedelta(hours=1))
                    .decided(after=timedelta(hours=2), upheld=True, head="h"))
    left = row_of(Loop("q", "s", RATED).opened())
    not_yet = row_of(Loop("q", "s", NOW - timedelta(hours=1)).opened())
    [october, november] = br.ledger_figures([done, late, upheld, left, not_yet], now=NOW, unit="month", limits=LIMITS,
                                            calendar=CAL)
    assert (october.township_id, october.period_start) == ("q", date(2026, 10, 1))
    assert october.counts == {"bad_ratings": 3, "appeals_upheld": 1, "visits_due": 3, "visited_on_time": 1,
                              "rectifications_due": 2, "rectified_on_time": 1}
    assert (october.follow_up_rate, october.rectification_rate) == (0.3333, 0.5)
    assert november.counts["visits_due"] == 0 and november.follow_up_rate is None
    [week] = br.ledger_figures([done], now=NOW, unit="week", limits=LIMITS, calendar=CAL)
    assert week.period_start == date(2026, 10, 12)


def test_the_loops_events_read_in_chinese_on_the_timeline():
    loop = (Loop("q", "s", RATED).opened().visited(after=timedelta(hours=1), holds=False)
            .appealed(after=timedelta(hours=2)).decided(after=timedelta(hours=3), upheld=True, head="h"))
    lines = [labels.summary(e.event_type, e.payload.model_dump(mode="json")) for e in loop.events[1:]]
    assert lines == ["2分差评，责任人s，回访1个工作日、整改5个工作日内完成", "电话回访，反映不属实",
                     "对法律政策本身不满：对政策标准本身不满", "申诉成立（经核实，差评针对政策标准）"]
