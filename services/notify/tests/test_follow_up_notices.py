"""The bad-rating loop's messages (docs/adr/0036-rating-loop-messages.md): who is told what, in which words."""

from dataclasses import replace
from datetime import timedelta

import pytest

from contracts.rating_events import FOLLOW_UP_RECTIFICATION, FOLLOW_UP_VISIT
from services.notify import domain, resident_notices, templates
from services.notify.recipients import CENTRE_HEAD, Notice, Reach, StaffMember, Unreachable
from services.notify.tests.builders import breached, submitted, warning
from services.notify.tests.rating_loop_events import appeal_decided, appealed, follow_up_opened, rectified

pytestmark = pytest.mark.unit

OWNER = StaffMember("qs-social_security-01", "qingshui", "social_security", "staff", "王芳", "+8613900010002")
HEAD = StaffMember("qs-head", "qingshui", "general_window", "centre_head", "赵主任", "+8613900010001")
PHONE = "+8613800138000"
CASE = submitted()


def _contact(phone: str | None = PHONE) -> domain.Contact:
    return domain.Contact(**vars(domain.case_of(CASE)), phone=phone)


def _text(notice) -> str:
    assert isinstance(notice, Notice)
    return templates.render(notice.template_code, notice.params, township_id="qingshui")


def _by_recipient(outcomes) -> dict[str, Notice]:
    return {n.recipient_id or n.recipient_kind: n for n in outcomes}


def test_a_follow_up_tells_the_resident_when_they_will_be_contacted_and_the_owner_and_head_their_deadlines():
    event = follow_up_opened(case_id=CASE.case_id)
    assert domain.needs_case(event) and domain.tells_staff(event)
    told = _by_recipient(domain.notices_for(event, _contact(), Reach(holder=OWNER, heads=(HEAD,))))
    assert set(told) == {"resident", OWNER.staff_id, HEAD.staff_id}
    assert _text(told["resident"]) == (
        "【清水镇便民服务中心】张三您好，您对办件QS-20261123-0001（城乡居民养老保险待遇申领）的评价已收到，"
        "我们将在1个工作日内（2026年11月25日前）与您联系核实，感谢您的监督。")
    assert "由您负责回访整改。须于2026年11月25日前回访核实，2026年12月1日前整改并答复群众。" in _text(told[OWNER.staff_id])
    assert "回访整改责任人社保站王芳，请督办" in _text(told[HEAD.staff_id])
    assert "张三" not in _text(told[HEAD.staff_id])  # the rater is never named to staff


def test_a_follow_up_nobody_owns_goes_to_the_head_who_owns_it_and_an_owner_who_is_head_is_told_once():
    nobody = domain.notices_for(follow_up_opened(case_id=CASE.case_id, owner=None), _contact(phone=None),
                                Reach(heads=(HEAD,)))
    [head] = nobody  # an erased number: the resident is told nothing, the head still is
    assert head.recipient_id == HEAD.staff_id and "由您负责回访整改" in _text(head)
    as_head = domain.notices_for(follow_up_opened(case_id=CASE.case_id, owner=HEAD.staff_id), _contact(),
                                 Reach(holder=HEAD, heads=(HEAD,)))
    assert sorted(n.recipient_id for n in as_head) == ["", HEAD.staff_id]
    unknown = domain.notices_for(follow_up_opened(case_id=CASE.case_id), _contact(phone=None), Reach())
    assert unknown == [Unreachable(OWNER.staff_id, "follow_up_opened"), Unreachable(CENTRE_HEAD, "follow_up_opened")]


def test_the_answer_reaches_the_resident_cleaned_and_says_whether_they_may_rate_again():
    again = domain.notices_for(rectified(case_id=CASE.case_id), _contact())
    [notice] = again
    text = _text(notice)
    assert text.startswith("【清水镇便民服务中心】张三您好，关于您对办件QS-20261123-0001的评价，整改答复如下：")
    assert "已在窗口公示材料清单，不再要求重复提交 详见。" in text and "www" not in text and "\n" not in text
    assert text.endswith("欢迎您再次评价，评价链接将另发短信。")
    [once] = domain.notices_for(rectified(case_id=CASE.case_id, rate_again=False), _contact())
    assert "再次评价" not in _text(once)
    assert domain.notices_for(rectified(case_id=CASE.case_id), _contact(phone=None)) == []
    assert not domain.tells_staff(rectified(case_id=CASE.case_id))


def test_an_appeal_goes_to_the_head_and_the_decision_to_the_appellant():
    [to_head] = domain.notices_for(appealed(case_id=CASE.case_id), _contact(), Reach(holder=OWNER, heads=(HEAD,)))
    assert to_head.recipient_id == HEAD.staff_id
    assert "社保站王芳对办件QS-20261123-0001（城乡居民养老保险待遇申领）的差评提出申诉（对法律政策本身不满）" in _text(to_head)
    [upheld] = domain.notices_for(appeal_decided(case_id=CASE.case_id), _contact(), Reach(holder=OWNER, heads=(HEAD,)))
    assert upheld.recipient_id == OWNER.staff_id and "予以支持，该评价不计入满意率，理由：" in _text(upheld)
    [refused] = domain.notices_for(appeal_decided(case_id=CASE.case_id, upheld=False), _contact(), Reach(holder=OWNER))
    assert "不予支持，请按期回访整改" in _text(refused)
    assert domain.notices_for(appeal_decided(case_id=CASE.case_id), _contact(), Reach()) == [
        Unreachable(OWNER.staff_id, "rating_appeal_decided")]


def _step(event, key: str):
    return event.model_copy(update={"payload": event.payload.model_copy(update={"deadline_key": key})})


def test_a_follow_up_deadline_warns_and_breaches_in_follow_up_words():
    near = _step(warning(case_id=CASE.case_id, staff_id=OWNER.staff_id, kind="follow_up"), FOLLOW_UP_VISIT)
    [told] = domain.notices_for(near, None, Reach(holder=OWNER, heads=(HEAD,)))
    assert told.template_code == "follow_up_warning" and told.recipient_id == OWNER.staff_id
    assert "王芳：办件QS-20261123-0001差评的回访核实期限为2026年12月7日，即将到期（黄灯）" in _text(told)
    late = _step(breached(case_id=CASE.case_id, staff_id=OWNER.staff_id, kind="follow_up", late=timedelta(hours=5)),
                 FOLLOW_UP_RECTIFICATION)
    owner, head = domain.notices_for(late, None, Reach(holder=OWNER, heads=(HEAD,)))
    assert (owner.recipient_id, head.recipient_id) == (OWNER.staff_id, HEAD.staff_id)
    assert "差评的整改答复期限2026年12月7日已过，超期5小时（红灯）" in _text(owner)
    assert "责任人：社保站王芳，请督办。" in _text(head)
    other = _step(warning(case_id=CASE.case_id, staff_id=OWNER.staff_id, kind="follow_up"), "follow_up")
    assert "差评的回访整改期限" in _text(domain.notices_for(other, None, Reach(holder=OWNER))[0])
    plain = warning(case_id=CASE.case_id, staff_id=OWNER.staff_id)
    assert domain.notices_for(plain, None, Reach(holder=OWNER))[0].template_code == "deadline_warning"


def test_a_second_rating_link_is_an_invitation_to_rate_again():
    [notice] = resident_notices.rating_invitation(PHONE, case_no="QS-20261123-0001", link="/api/v1/rate/" + "a" * 48,
                                                  expires_at=CASE.occurred_at, again=True)
    assert notice.template_code == "rating_again_invitation"
    assert "已整改答复，欢迎再次评价：http://localhost:8101/api/v1/rate/" in _text(notice)
    assert replace(notice, template_code="rating_invitation") == resident_notices.rating_invitation(
        PHONE, case_no="QS-20261123-0001", link="/api/v1/rate/" + "a" * 48, expires_at=CASE.occurred_at)[0]
