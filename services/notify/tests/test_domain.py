from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.events import NotificationSent
from services.notify import domain, templates
from services.notify.recipients import Notice, Reach, StaffMember
from services.notify.tests.builders import (
    breached,
    completed,
    extended,
    flagged,
    paused,
    recalculated,
    resumed,
    submitted,
    warning,
)

pytestmark = pytest.mark.unit

HEAD = StaffMember("qs-head", "qingshui", "general_window", "centre_head", "赵主任", "+8613900010001")


def _contact(event=None, phone: str | None = "+8613800138000") -> domain.Contact:
    case = domain.case_of(event or submitted())
    return domain.Contact(**vars(case), phone=phone)


def test_submission_tells_the_resident_with_case_number_and_deadline():
    event = submitted(phone="+8613912345678")
    [notice] = domain.notices_for_submitted(event, _contact(event, "+8613912345678"))
    assert (notice.recipient_kind, notice.phone, notice.template_code) == ("resident", "+8613912345678", "case_submitted")
    text = templates.render(notice.template_code, notice.params)
    assert "QS-20261123-0001" in text and "2026年12月7日前办结" in text and "容缺" not in text


def test_the_case_keeps_what_later_messages_need():
    event = submitted()
    case = domain.case_of(event)
    assert (case.case_id, case.township_id, case.case_no, case.applicant_name) == (
        event.case_id, "qingshui", "QS-20261123-0001", "张三")


def test_a_resident_whose_number_was_erased_is_told_nothing_but_staff_still_are():
    event = submitted()
    erased = _contact(event, phone=None)
    for resident_event in (event, completed(case_id=event.case_id), extended(case_id=event.case_id),
                           recalculated(case_id=event.case_id), paused(case_id=event.case_id),
                           resumed(case_id=event.case_id)):
        assert domain.notices_for(resident_event, erased) == []
    [head] = domain.notices_for(breached(case_id=event.case_id), erased, Reach(heads=(HEAD,)))
    assert isinstance(head, Notice) and head.recipient_kind == "staff" and head.recipient_id == "qs-head"


def test_deadline_events_need_no_case_and_tell_staff():
    case_id = submitted().case_id
    for event in (breached(case_id=case_id), warning(case_id=case_id)):
        assert not domain.needs_case(event) and domain.tells_staff(event)
    flag = flagged(case_id=case_id)
    assert domain.needs_case(flag) and domain.tells_staff(flag)
    assert domain.needs_case(completed(case_id=case_id)) and not domain.tells_staff(completed(case_id=case_id))


def test_a_flag_names_the_case_from_what_notify_kept():
    event = submitted()
    [notice] = domain.notices_for(flagged(case_id=event.case_id), _contact(event), Reach(heads=(HEAD,)))
    assert isinstance(notice, Notice) and notice.params["case_no"] == "QS-20261123-0001"
    with pytest.raises(TypeError):
        domain.notices_for(flagged(case_id=event.case_id), None, Reach(heads=(HEAD,)))


def test_an_extension_tells_the_resident_the_new_deadline_and_why():
    event = submitted()
    [notice] = domain.notices_for(extended(case_id=event.case_id, provisional=True), _contact(event))
    assert (notice.recipient_kind, notice.template_code) == ("resident", "deadline_extended")
    text = templates.render(notice.template_code, notice.params)
    assert "延长办理期限10个工作日" in text and "需现场踏勘" in text and "2026年12月21日前办结" in text
    assert "暂定的节假日安排" in text


def test_a_recalculation_tells_the_resident_only_when_the_day_moved():
    event = submitted()
    [notice] = domain.notices_for(recalculated(case_id=event.case_id), _contact(event))
    text = templates.render(notice.template_code, notice.params)
    assert "2027年法定节假日安排已公布" in text and "由2026年12月7日调整为2026年12月10日" in text
    assert domain.notices_for(recalculated(case_id=event.case_id, moved=-timedelta(hours=1)), _contact(event)) == []


def test_a_pause_for_materials_is_silent_others_tell_the_resident():
    event = submitted()
    materials = paused(case_id=event.case_id, reason="materials", note="补正户口簿")
    assert domain.is_silent(materials) and domain.notices_for(materials, _contact(event)) == []
    [notice] = domain.notices_for(paused(case_id=event.case_id), _contact(event))
    assert not domain.is_silent(paused(case_id=event.case_id))
    assert "因听证暂停计时" in templates.render(notice.template_code, notice.params)


def test_a_resumed_clock_tells_the_resident_only_when_the_deadline_moved():
    event = submitted()
    [notice] = domain.notices_for(resumed(case_id=event.case_id, days=2), _contact(event))
    assert "已恢复计时，现承诺于2026年12月9日前办结" in templates.render(notice.template_code, notice.params)
    assert domain.notices_for(resumed(case_id=event.case_id, days=0), _contact(event)) == []


@pytest.mark.parametrize("result", ["granted", "refused"])
def test_completion_tells_the_resident_by_result(result):
    event = submitted()
    [notice] = domain.notices_for_completed(completed(case_id=event.case_id, result=result), _contact(event))
    assert (notice.recipient_kind, notice.phone, notice.template_code) == (
        "resident", "+8613800138000", f"case_completed_{result}")
    assert "QS-20261123-0001" in templates.render(notice.template_code, notice.params)


def test_nothing_is_announced_about_an_event_older_than_the_limit():
    event = submitted()
    limit = timedelta(hours=48)
    assert not domain.too_old_to_announce(event, now=event.occurred_at + limit, max_age=limit)
    assert domain.too_old_to_announce(event, now=event.occurred_at + limit + timedelta(seconds=1), max_age=limit)


def test_send_policy_backs_off_then_gives_up():
    policy = domain.SendPolicy(max_attempts=4, first_delay=2.0, max_delay=5.0)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert policy.after_failure(attempts=1, now=now) == ("queued", now + timedelta(seconds=2))
    assert policy.after_failure(attempts=2, now=now) == ("queued", now + timedelta(seconds=4))
    assert policy.after_failure(attempts=3, now=now) == ("queued", now + timedelta(seconds=5))
    assert policy.after_failure(attempts=4, now=now)[0] == "failed"


def test_sent_event_carries_the_masked_phone_only():
    message = domain.QueuedMessage(message_id=uuid4(), case_id=uuid4(), township_id="qingshui", trigger_event_id=uuid4(),
                                   recipient_kind="resident", phone="+8613800138000", template_code="case_submitted",
                                   text="…", attempts=0)
    [new] = domain.decide_sent(message, provider="dev", provider_message_id="dev-1")
    assert new.type is NotificationSent
    assert new.payload.recipient_masked == "138****8000" and new.payload.trigger_event_id == message.trigger_event_id
    assert "13800138000" not in new.payload.model_dump_json()
