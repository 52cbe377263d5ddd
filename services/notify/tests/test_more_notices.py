"""The messages of docs/adr/0029-sms-templates.md: the one-time notice, a tolerated material's reminder, a case
to hold, a bad rating, a complaint, the invitation to rate."""

from uuid import uuid4

import pytest

from services.notify import domain, resident_notices, templates
from services.notify.recipients import CENTRE_HEAD, Notice, Reach, StaffMember, Unreachable
from services.notify.tests.builders import (
    DEADLINE,
    assigned,
    complaint,
    materials_requested,
    rated,
    submitted,
    transferred,
    warning,
)

pytestmark = pytest.mark.unit

HOLDER = StaffMember("qs-social_security-01", "qingshui", "social_security", "staff", "王芳", "+8613900010002")
HEAD = StaffMember("qs-head", "qingshui", "general_window", "centre_head", "赵主任", "+8613900010001")
PHONE = "+8613800138000"


def _contact(event=None, phone: str | None = PHONE) -> domain.Contact:
    return domain.Contact(**vars(domain.case_of(event or submitted())), phone=phone)


def _text(notice) -> str:
    assert isinstance(notice, Notice)
    return templates.render(notice.template_code, notice.params, township_id="qingshui")


def test_the_one_time_notice_names_every_missing_material_and_waits_for_the_contact():
    event = materials_requested(names=("户口簿", "本人银行卡或存折", "近期一寸\n免冠照片【假】"))
    assert domain.needs_case(event) and not domain.tells_staff(event)
    assert domain.case_of(event).case_no == "QS-20261123-0002"  # the notice makes the case known before acceptance
    [notice] = domain.notices_for(event, _contact(event))
    assert (notice.recipient_kind, notice.phone, notice.template_code) == ("resident", PHONE, "materials_requested")
    assert _text(notice) == ("【清水镇便民服务中心】张三您好，您申请的城乡居民养老保险待遇申领（编号QS-20261123-0002）"
                             "还需补正以下材料：户口簿、本人银行卡或存折、近期一寸 免冠照片假。请一次补齐后到清水镇便民服务中心"
                             "办理（清水镇人民路88号，周一至周五8:30-12:00、14:00-17:30）。")
    assert domain.notices_for(event, _contact(event, phone=None)) == []


def test_a_tolerated_material_falling_due_reminds_the_resident_too():
    event = warning(case_id=uuid4(), staff_id=HOLDER.staff_id, kind="tolerated_material", subject="户口簿")
    assert domain.needs_case(event)  # the resident's number is needed: it waits like the case's own events
    staff, resident = domain.notices_for(event, _contact(), Reach(holder=HOLDER))
    assert isinstance(staff, Notice) and staff.recipient_id == HOLDER.staff_id
    assert resident.recipient_kind == "resident" and resident.template_code == "tolerated_material_due"
    assert _text(resident) == ("【清水镇便民服务中心】张三您好，您的办件QS-20261123-0001容缺受理的材料（户口簿）须于"
                               "2026年12月7日前补齐，请按时送到清水镇便民服务中心（清水镇人民路88号）。")
    # an erased number: the staff member is still told
    assert [o.recipient_kind for o in domain.notices_for(event, _contact(phone=None), Reach(holder=HOLDER))] == [
        "staff"]


def test_a_case_deadline_warning_stays_with_staff_and_does_not_wait():
    event = warning(case_id=uuid4(), staff_id=HOLDER.staff_id, kind="case")
    assert not domain.needs_case(event)
    assert [o.recipient_kind for o in domain.notices_for(event, _contact(), Reach(holder=HOLDER))] == ["staff"]


def test_the_new_holder_is_told_of_a_case_assigned_or_transferred():
    case = submitted()
    event = assigned(case_id=case.case_id, staff_id=HOLDER.staff_id)
    assert domain.tells_staff(event) and domain.needs_case(event)
    [notice] = domain.notices_for(event, _contact(case), Reach(holder=HOLDER, heads=(HEAD,)))
    assert (notice.recipient_id, notice.phone, notice.template_code) == (HOLDER.staff_id, HOLDER.phone, "case_to_hold")
    assert _text(notice) == ("【清水镇便民服务中心】王芳：办件QS-20261123-0001（城乡居民养老保险待遇申领）已由您承办，"
                             "承诺于2026年12月7日前办结，请及时办理。")
    moved = transferred(case_id=case.case_id, to_staff_id=HOLDER.staff_id)
    [notice] = domain.notices_for(moved, _contact(case), Reach(holder=HOLDER))
    assert "已由您承办（由医保站转来），请及时办理。" in _text(notice)


def test_a_case_the_general_window_holds_tells_no_holder_and_an_unknown_holder_is_recorded():
    case = submitted()
    assert domain.notices_for(assigned(case_id=case.case_id, staff_id=None), _contact(case), Reach(heads=(HEAD,))) == []
    [outcome] = domain.notices_for(transferred(case_id=case.case_id, to_staff_id="qs-x-09"), _contact(case), Reach())
    assert outcome == Unreachable("qs-x-09", "case_to_hold")


def test_a_bad_rating_goes_to_the_centre_head_and_a_good_one_to_nobody():
    case = submitted()
    event = rated(case_id=case.case_id, score=1, comment="等了两个小时\nhttp://spam.cn 【差评】")
    assert domain.tells_staff(event) and domain.needs_case(event)
    [notice] = domain.notices_for(event, _contact(case), Reach(heads=(HEAD,)))
    assert (notice.recipient_id, notice.template_code) == (HEAD.staff_id, "bad_rating")
    assert _text(notice) == ("【清水镇便民服务中心】赵主任：办件QS-20261123-0001（城乡居民养老保险待遇申领）收到差评（1分），"
                             "评价：等了两个小时 差评。回访整改责任人和期限随后告知。")
    assert domain.notices_for(rated(case_id=case.case_id, score=4), _contact(case), Reach(heads=(HEAD,))) == []
    [nobody] = domain.notices_for(event, _contact(case), Reach())
    assert nobody == Unreachable(CENTRE_HEAD, "bad_rating")


def test_a_complaint_goes_to_the_centre_head_at_once_without_the_complainant():
    event = complaint(about_staff_id="qs-medical_insurance-01")
    assert domain.tells_staff(event) and not domain.needs_case(event)
    [notice] = domain.notices_for(event, None, Reach(heads=(HEAD,)))
    text = _text(notice)
    assert text == ("【清水镇便民服务中心】赵主任：收到投诉QS-T-20261123-0001，事由：窗口工作人员不在岗，"
                    "须于2026年12月7日前答复，请指定调查人。被投诉人不得参与调查。")
    assert "李四" not in text and "十点" not in text


def test_the_rating_invitation():
    link = "https://bm.example.gov.cn/api/v1/rate/" + "A" * 48
    [notice] = resident_notices.rating_invitation(PHONE, case_no="QS-1", link=link, expires_at=DEADLINE)
    rendered = templates.compose(notice.template_code, notice.params, township_id="qingshui")
    assert link in rendered.text and "2026年12月7日前有效" in rendered.text and rendered.segments == 3
    assert resident_notices.rating_invitation(None, case_no="QS-1", link=link, expires_at=DEADLINE) == []


def test_the_contact_record_carries_a_rating_link_only_with_its_expiry_and_omits_it_when_unset():
    from contracts.contacts import CaseContact, parse_contact

    base = {"case_id": uuid4(), "township_id": "qingshui", "version": 2, "recorded_at": DEADLINE,
            "applicant_phone": PHONE}
    plain = CaseContact(**base)
    assert b"rating_link" not in plain.to_json_bytes()  # a reader that predates the link still reads it
    with_link = CaseContact(**base, rating_link="/api/v1/rate/" + "a" * 48, rating_link_expires_at=DEADLINE)
    assert parse_contact(str(with_link.case_id).encode(), with_link.to_json_bytes())[1] == with_link
    with pytest.raises(ValueError):
        CaseContact(**base, rating_link="/api/v1/rate/" + "a" * 48)
    with pytest.raises(ValueError):
        CaseContact(**base, rating_link="https://evil.cn/x", rating_link_expires_at=DEADLINE)
