"""Every anomaly rule on rows of the read model: what it finds, what it leaves, the evidence it names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.workdays import default_calendar
from services.audit import anomalies as a
from services.audit.read_model import CaseFacts

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LIMITS = a.Limits(follow_up_working_days=3, rectification_working_days=15, resident_told_hours=24)
CAL = default_calendar()


def case(**facts) -> dict:
    row = vars(CaseFacts(case_id=uuid4(), case_no="QS-1", township_id="qingshui", department_code="civil_affairs",
                         staff_id="qs-01"))
    return {**row, "approver_role": None, "approver_township": None, **facts}


def run(kind: str, row: dict) -> a.Finding | None:
    return a.RULES[kind](row, NOW, LIMITS, CAL)


def test_overdue_open_late_completed_and_once_breached():
    deadline, breach = NOW - timedelta(days=3), uuid4()
    open_late = run("overdue_case", case(promised_deadline=deadline, breached_at=deadline, breached_event_id=breach,
                                         breached_staff_id="qs-02"))
    assert "3 天仍未办结" in open_late.summary and open_late.evidence == [breach] and open_late.staff_id == "qs-02"
    done = uuid4()
    late = run("overdue_case", case(promised_deadline=deadline, completed_at=NOW, on_time=False, completed_event_id=done))
    assert late.summary.startswith("逾期办结") and late.evidence == [done]
    assert "曾超过" in run("overdue_case", case(promised_deadline=NOW, breached_at=deadline, completed_at=NOW,
                                                on_time=True)).summary
    assert run("overdue_case", case(promised_deadline=NOW + timedelta(days=1))) is None
    assert run("overdue_case", case(promised_deadline=deadline, rejected_at=deadline)) is None  # refused, not late


def test_ping_pong_and_second_notice():
    flag = uuid4()
    found = run("ping_pong", case(ping_pong_at=NOW, ping_pong_event_id=flag, ping_pong_path=["a", "b", "a"], transfers=2))
    assert found.summary.startswith("办件在科室间来回流转：a → b → a") and found.evidence == [flag]
    assert run("ping_pong", case()) is None
    notice = uuid4()
    told = run("second_notice", case(second_notices=1, notices=2, second_notice_at=NOW, second_notice_event_id=notice,
                                     first_contact_staff_id="qs-window"))
    assert told.evidence == [notice] and told.staff_id == "qs-window"
    assert run("second_notice", case(notices=1)) is None


def test_refusal_needs_the_townships_centre_head():
    refused = dict(rejected_at=NOW, rejected_event_id=uuid4(), rejection_approved_by="qs-head")
    assert run("refusal_without_centre_head", case(**refused, approver_role="centre_head",
                                                   approver_township="qingshui")) is None
    assert "未登记" in run("refusal_without_centre_head", case(**refused)).summary
    assert run("refusal_without_centre_head", case(**refused, approver_role="centre_head",
                                                   approver_township="baishi")) is not None
    assert run("refusal_without_centre_head", case(**refused, approver_role="staff",
                                                   approver_township="qingshui")) is not None


def test_bad_rating_follow_up_counts_working_days():
    # Friday 20 November: three working days end on Wednesday 25 November, so not yet late on the 24th.
    friday = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    bad = dict(rating_score=2, rating_event_id=uuid4())
    assert run("bad_rating_without_follow_up", case(**bad, rated_at=friday)) is None
    old = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    late = run("bad_rating_without_follow_up", case(**bad, rated_at=old))
    assert "至今未回访" in late.summary and late.evidence == [bad["rating_event_id"]]
    assert run("bad_rating_without_follow_up", case(**bad, rated_at=old, followed_up_at=old + timedelta(days=1))) is None
    assert "才回访" in run("bad_rating_without_follow_up", case(**bad, rated_at=old, followed_up_at=NOW)).summary
    assert run("bad_rating_without_follow_up", case(**bad, rated_at=old, rating_excluded=True)) is None
    assert run("bad_rating_without_follow_up", case(rating_score=3, rated_at=old)) is None


def test_rectification_has_its_own_limit():
    bad = dict(rating_score=1, rating_event_id=uuid4())
    assert run("rectification_overdue", case(**bad, rated_at=datetime(2026, 11, 10, tzinfo=UTC))) is None
    assert "至今未整改" in run("rectification_overdue", case(**bad, rated_at=datetime(2026, 10, 20, tzinfo=UTC))).summary


def test_completed_without_the_resident_told():
    done = uuid4()
    found = run("completed_without_resident_told", case(completed_at=NOW - timedelta(hours=25), completed_event_id=done,
                                                        completed_by="qs-03"))
    assert found.evidence == [done] and found.staff_id == "qs-03"
    assert run("completed_without_resident_told", case(completed_at=NOW - timedelta(hours=23))) is None
    assert run("completed_without_resident_told", case(completed_at=NOW - timedelta(days=3), resident_told_at=NOW)) is None


def test_absence_counts_on_market_and_office_days_only():
    row = {"event_id": uuid4(), "staff_id": "qs-01", "township_id": "qingshui", "duty_date": date(2026, 11, 24),
           "kind": "not_at_post", "noticed_at": NOW, "day_kind": "market_day", "department_code": "civil_affairs"}
    found = run("absent_on_market_day", row)
    assert found.summary == "2026-11-24（逢场天）无故不在岗" and found.evidence == [row["event_id"]]
    assert run("absent_on_market_day", {**row, "day_kind": "ordinary"}) is None


def test_complaint_unanswered_after_its_due_day():
    row = {"complaint_id": uuid4(), "complaint_no": "QS-T-1", "township_id": "qingshui", "subject": "窗口无人",
           "department_code": None, "about_staff_id": "qs-01", "answer_due": NOW - timedelta(days=1),
           "answered_at": None, "registered_event_id": uuid4()}
    found = run("complaint_unanswered", row)
    assert "至今未答复" in found.summary and found.evidence == [row["registered_event_id"]]
    assert run("complaint_unanswered", {**row, "answered_at": NOW}) is None
    assert run("complaint_unanswered", {**row, "answer_due": NOW + timedelta(days=1)}) is None


def test_top_breaching_staff_summarises_the_counts():
    ids = [uuid4(), None]
    row = {"staff_id": "qs-01", "name": "王芳", "township_id": "qingshui", "department_code": "civil_affairs",
           "total": 4, "overdue": 2, "absences": 1, "upheld_complaints": 1, "latest": NOW, "event_ids": ids}
    found = run("top_breaching_staff", row)
    assert found.count == 4 and found.evidence == ids[:1] and "超期办件 2 件，离岗 1 次，投诉属实 1 件" in found.summary
    assert run("top_breaching_staff", {**row, "total": 0}) is None


def test_every_kind_has_a_rule_and_a_chinese_label():
    assert set(a.RULES) == set(a.LABELS) == set(a.AnomalyKind.__args__)
