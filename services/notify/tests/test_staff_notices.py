from datetime import timedelta
from uuid import uuid4

import pytest

from services.notify import domain, staff_notices, templates
from services.notify.recipients import CENTRE_HEAD, Notice, Reach, StaffMember, Unreachable
from services.notify.tests.builders import DEADLINE, breached, flagged, warning

pytestmark = pytest.mark.unit

HOLDER = StaffMember("qs-social_security-01", "qingshui", "social_security", "staff", "王芳", "+8613900010002")
HEAD = StaffMember("qs-head", "qingshui", "general_window", "centre_head", "赵主任", "+8613900010001")
DEPUTY = StaffMember("qs-head-2", "qingshui", "general_window", "centre_head", "钱副主任", "+8613900010009")


def _sent(outcomes) -> list[tuple[str, str]]:
    return [(o.recipient_id, o.phone) for o in outcomes if isinstance(o, Notice)]


def test_a_warning_goes_to_the_holder_only():
    event = warning(case_id=uuid4(), staff_id=HOLDER.staff_id)
    [notice] = domain.notices_for(event, None, Reach(holder=HOLDER, heads=(HEAD,)))
    assert isinstance(notice, Notice)
    assert (notice.recipient_kind, notice.recipient_id, notice.phone, notice.template_code) == (
        "staff", HOLDER.staff_id, HOLDER.phone, "deadline_warning")
    text = templates.render(notice.template_code, notice.params)
    assert text.startswith("【便民服务】王芳：QS-20261123-0001（城乡居民养老保险待遇申领）的办件期限为2026年12月7日")
    assert "黄灯" in text and "综合窗口" not in text


def test_a_warning_nobody_holds_goes_to_the_centre_heads():
    event = warning(case_id=uuid4(), staff_id=None)
    outcomes = domain.notices_for(event, None, Reach(heads=(HEAD, DEPUTY)))
    assert _sent(outcomes) == [(HEAD.staff_id, HEAD.phone), (DEPUTY.staff_id, DEPUTY.phone)]
    assert "尚无承办人" in templates.render(outcomes[0].template_code, outcomes[0].params)


def test_a_breach_goes_to_the_holder_and_every_centre_head():
    event = breached(case_id=uuid4(), staff_id=HOLDER.staff_id, late=timedelta(days=1, hours=2))
    holder, head, deputy = domain.notices_for(event, None, Reach(holder=HOLDER, heads=(HEAD, DEPUTY)))
    assert _sent([holder, head, deputy]) == [(HOLDER.staff_id, HOLDER.phone), (HEAD.staff_id, HEAD.phone),
                                             (DEPUTY.staff_id, DEPUTY.phone)]
    to_holder = templates.render(holder.template_code, holder.params)
    assert to_holder == ("【便民服务】王芳：QS-20261123-0001（城乡居民养老保险待遇申领）的办件期限2026年12月7日已过，"
                         "超期1天2小时（红灯），请尽快办理。")
    to_head = templates.render(head.template_code, head.params)
    assert to_head.startswith("【便民服务】赵主任：") and to_head.endswith("承办人：社保站王芳，请督办。")


def test_a_centre_head_holding_the_case_is_told_once():
    event = breached(case_id=uuid4(), staff_id=HEAD.staff_id)
    [notice] = domain.notices_for(event, None, Reach(holder=HEAD, heads=(HEAD,)))
    assert notice.recipient_id == HEAD.staff_id and "承办人" not in templates.render("deadline_breached", notice.params)


@pytest.mark.parametrize(("kind", "said"), [("case", "的办件期限"), ("tolerated_material", "的容缺材料期限"),
                                            ("complaint", "的投诉答复期限"), ("follow_up", "差评的回访整改期限")])
def test_what_is_late_is_in_the_text(kind, said):
    event = breached(case_id=uuid4(), staff_id=HOLDER.staff_id, kind=kind, subject="户口簿")
    [holder, _] = domain.notices_for(event, None, Reach(holder=HOLDER, heads=(HEAD,)))
    assert said in templates.render(holder.template_code, holder.params)


def test_a_holder_without_a_number_and_a_township_without_a_head_are_unreachable():
    event = breached(case_id=uuid4(), staff_id="qs-social_security-09")
    assert domain.notices_for(event, None, Reach()) == [
        Unreachable("qs-social_security-09", "deadline_breached"), Unreachable(CENTRE_HEAD, "deadline_breached")]
    left = StaffMember(**{**vars(HOLDER), "phone": None})
    assert domain.notices_for(warning(case_id=uuid4(), staff_id=HOLDER.staff_id), None,
                              Reach(holder=left, heads=(HEAD,))) == [Unreachable(HOLDER.staff_id, "deadline_warning")]


def test_an_unknown_holder_is_named_by_id_to_the_head():
    event = breached(case_id=uuid4(), staff_id="qs-social_security-09")
    [missing, head] = domain.notices_for(event, None, Reach(heads=(HEAD,)))
    assert isinstance(missing, Unreachable) and head.params["holder"] == "社保站qs-social_security-09"


def test_a_flag_tells_the_heads_the_path_in_department_names():
    [notice] = staff_notices.flag(flagged(case_id=uuid4()), Reach(heads=(HEAD,)), case_no="QS-20261123-0001",
                                  item_name="城乡居民医保参保登记")
    assert templates.render(notice.template_code, notice.params) == (
        "【便民服务】赵主任：办件QS-20261123-0001（城乡居民医保参保登记）已转办2次，流转经过：医保站→社保站→医保站，"
        "疑似推诿扯皮，请督办。")
    assert staff_notices.flag(flagged(case_id=uuid4()), Reach(), case_no="N", item_name="X") == [
        Unreachable(CENTRE_HEAD, "case_flagged")]


def test_lateness_is_never_negative():
    assert staff_notices.lateness(DEADLINE, DEADLINE - timedelta(seconds=1)) == timedelta(0)
    assert staff_notices.lateness(DEADLINE, DEADLINE + timedelta(hours=3)) == timedelta(hours=3)
