"""Residents reached through their village agent: whom the resident's messages go to and what they say."""

from __future__ import annotations

from uuid import uuid4

from services.notify import domain, templates, via_agent
from services.notify.recipients import Notice, Unreachable
from services.notify.tests.builders import completed, submitted

AGENT_PHONE = "+8613900020001"


def _contact(*, phone: str | None = None, agent_id: str | None = "qs-agent-dongfeng",
             agent_phone: str | None = AGENT_PHONE, name: str = "李桂兰") -> domain.Contact:
    return domain.Contact(case_id=uuid4(), township_id="qingshui", case_no="QS-20261123-0001",
                          item_name="城乡居民养老保险待遇申领", department_code="social_security", applicant_name=name,
                          phone=phone, agent_id=agent_id, agent_phone=agent_phone)


def _resident_notices(event, contact: domain.Contact) -> list:
    return via_agent.relayed(domain.notices_for(event, via_agent.reaching(contact)), contact)


def test_without_a_mobile_the_receipt_goes_to_the_agent_saying_for_whom() -> None:
    contact = _contact()
    [notice] = _resident_notices(submitted(case_id=contact.case_id, applicant_name="李桂兰"), contact)
    assert isinstance(notice, Notice)
    assert (notice.recipient_kind, notice.phone, notice.relayed_for) == ("resident", AGENT_PHONE, "李桂兰")
    text = templates.compose(notice.template_code, notice.params, township_id="qingshui",
                             relayed_for=notice.relayed_for).text
    assert "】代李桂兰转告：李桂兰您好" in text


def test_the_applicants_own_mobile_comes_first() -> None:
    contact = _contact(phone="+8613800138000")
    [notice] = _resident_notices(completed(case_id=contact.case_id), contact)
    assert isinstance(notice, Notice)
    assert (notice.phone, notice.relayed_for) == ("+8613800138000", None)


def test_an_agent_without_a_known_number_is_recorded_unreachable() -> None:
    contact = _contact(agent_phone=None)
    assert _resident_notices(completed(case_id=contact.case_id), contact) == [
        Unreachable(recipient_id="qs-agent-dongfeng", template_code="case_completed_granted")]


def test_an_erased_contact_reaches_nobody() -> None:
    contact = _contact(agent_id=None, agent_phone=None)
    assert _resident_notices(completed(case_id=contact.case_id), contact) == []


def test_the_name_said_to_the_agent_is_cleaned_like_typed_text() -> None:
    rendered = templates.compose("case_completed_granted", {
        "applicant_name": "王五", "item_name": "低保", "case_no": "QS-1", "note": ""},
        township_id="qingshui", relayed_for="王\u202e五 www.evil.cn\n")
    assert "代王五转告：" in rendered.text and "evil" not in rendered.text and "\n" not in rendered.text
    plain = templates.compose("case_completed_granted", {
        "applicant_name": "王五", "item_name": "低保", "case_no": "QS-1", "note": ""}, township_id="qingshui")
    assert rendered.segments >= plain.segments and len(rendered.text) == len(plain.text) + len("代王五转告：")
