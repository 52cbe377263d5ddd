"""Pure rules of consultations, complaints and referrals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts.events import CaseReferred, ComplaintRegistered, ConsultationLogged
from contracts.workdays import default_calendar
from services.intake import matters
from services.intake.items import Item, Material

pytestmark = pytest.mark.unit

ITEM = Item(item_code="BDC-001", name="不动产登记", kind="promised", department_code="natural_resources",
            promised_limit_days=5, materials=(Material("id_card", "身份证", True),), offered_in=frozenset({"hexi"}))
DUE = datetime(2026, 12, 14, 15, 59, 59, 999999, tzinfo=UTC)


def consultation(**kw) -> matters.LogConsultation:
    base = dict(township_id="qingshui", question="新农合今年交多少钱？", answer="每人400元", item_code=None,
                department_code=None, channel="window", staff_id="qs-general_window-01")
    return matters.LogConsultation(**(base | kw))


def complaint(**kw) -> matters.RegisterComplaint:
    base = dict(township_id="qingshui", kind="complaint", subject="窗口无人", content="上午十点医保窗口无人",
                department_code="medical_insurance", about_staff_id="qs-medical_insurance-01", about_case_id=None,
                anonymous=False, complainant_name="李四", complainant_phone="+8613900139000",
                staff_id="qs-general_window-01")
    return matters.RegisterComplaint(**(base | kw))


def referral(**kw) -> matters.ReferMatter:
    base = dict(township_id="qingshui", matter="办理不动产登记", item_code=None, referred_to="县政务服务中心",
                address="县城人民路8号", office_hours="工作日 9:00-17:00", note="请携带身份证", staff_id="qs-w-01")
    return matters.ReferMatter(**(base | kw))


def test_a_consultation_is_counted_under_its_items_department_unless_one_is_named():
    [event] = matters.decide_consultation(consultation(item_code="BDC-001"), item=ITEM)
    assert event.type is ConsultationLogged and event.payload.department_code == "natural_resources"
    [event] = matters.decide_consultation(consultation(item_code="BDC-001", department_code="judicial"), item=ITEM)
    assert event.payload.department_code == "judicial"
    [event] = matters.decide_consultation(consultation(), item=None)
    assert event.payload.department_code is None and event.payload.first_contact_staff_id == "qs-general_window-01"


def test_an_unknown_department_is_refused():
    with pytest.raises(matters.UnknownDepartment):
        matters.decide_consultation(consultation(department_code="no_such_unit"), item=None)
    with pytest.raises(matters.UnknownDepartment):
        matters.decide_complaint(complaint(department_code="no_such_unit"), number="QS-T-1", due=DUE)


def test_complaint_numbers_name_township_kind_and_day():
    assert matters.complaint_no("QS", "complaint", date(2026, 11, 23), 1) == "QS-T-20261123-0001"
    assert matters.complaint_no("BS", "report", date(2026, 11, 23), 12) == "BS-J-20261123-0012"


def test_answer_due_counts_working_days_on_the_shared_calendar():
    # Monday 23 Nov 2026, 10:00 in Shanghai: 15 working days later is Monday 14 Dec, end of day.
    registered = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert matters.answer_due(default_calendar(), registered, 15) == DUE
    # Registered on Saturday 21 Nov: counting starts on Monday 23 Nov, so the 15th working day is Friday 11 Dec.
    assert matters.answer_due(default_calendar(), datetime(2026, 11, 21, 2, 0, tzinfo=UTC), 15) == \
        datetime(2026, 12, 11, 15, 59, 59, 999999, tzinfo=UTC)


def test_a_named_complaint_carries_its_name_and_never_a_phone():
    [event] = matters.decide_complaint(complaint(), number="QS-T-20261123-0001", due=DUE)
    assert event.type is ComplaintRegistered
    payload = event.payload.model_dump()
    assert payload["complainant_name"] == "李四" and payload["answer_due"] == DUE
    assert "13900139000" not in str(payload)


def test_an_anonymous_complaint_keeps_no_name_and_a_named_one_needs_it():
    [event] = matters.decide_complaint(complaint(anonymous=True), number="QS-T-1", due=DUE)
    assert event.payload.anonymous and event.payload.complainant_name is None
    with pytest.raises(matters.ComplainantNameRequired):
        matters.decide_complaint(complaint(complainant_name=None), number="QS-T-1", due=DUE)


def test_a_referral_of_an_item_offered_here_is_refused_and_one_not_offered_is_referred():
    with pytest.raises(matters.ItemOfferedHere) as refused:
        matters.decide_referral(referral(township_id="hexi", item_code="BDC-001"), item=ITEM)
    assert "直接受理" in refused.value.message
    [event] = matters.decide_referral(referral(item_code="BDC-001"), item=ITEM)
    assert event.type is CaseReferred and event.payload.item_code == "BDC-001"
    assert "本中心不办理“不动产登记”" in matters.referral_guidance(event.payload, item=ITEM)


def test_the_guidance_says_where_when_and_what_to_bring():
    [event] = matters.decide_referral(referral(), item=None)
    text = matters.referral_guidance(event.payload, item=None)
    assert text == "请前往县政务服务中心办理（地址：县城人民路8号；办公时间：工作日 9:00-17:00）。请携带身份证"
    [bare] = matters.decide_referral(referral(address="", office_hours="", note=""), item=None)
    assert matters.referral_guidance(bare.payload, item=None) == "请前往县政务服务中心办理。"


def test_a_complaint_is_overdue_unanswered_past_its_due_or_answered_late():
    after, before = datetime(2026, 12, 15, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    assert matters.complaint_overdue(status="open", on_time=None, answer_due=DUE, now=after)
    assert not matters.complaint_overdue(status="open", on_time=None, answer_due=DUE, now=before)
    assert matters.complaint_overdue(status="answered", on_time=False, answer_due=DUE, now=before)
    assert not matters.complaint_overdue(status="answered", on_time=True, answer_due=DUE, now=after)


def test_the_report_period_defaults_to_today_and_is_bounded():
    today = date(2026, 11, 23)
    assert matters.report_period(None, None, today=today) == (today, today)
    assert matters.report_period(date(2026, 11, 1), None, today=today) == (date(2026, 11, 1), today)
    with pytest.raises(matters.ReportPeriodInvalid):
        matters.report_period(date(2026, 11, 24), date(2026, 11, 23), today=today)
    with pytest.raises(matters.ReportPeriodInvalid):
        matters.report_period(date(2025, 1, 1), date(2026, 11, 23), today=today)

