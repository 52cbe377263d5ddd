from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.events import NotificationSent
from services.notify import domain, templates
from services.notify.directory import DUTY_CONTACTS
from services.notify.tests.builders import DEADLINE, breached, completed, submitted

pytestmark = pytest.mark.unit

DIRECTORY = [domain.DutyContact(**d) for d in DUTY_CONTACTS]


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
    assert domain.notices_for(event, erased, DIRECTORY) == []
    assert domain.notices_for(completed(case_id=event.case_id), erased, DIRECTORY) == []
    [staff] = domain.notices_for(breached(case_id=event.case_id), erased, DIRECTORY)
    assert staff.recipient_kind == "staff" and domain.needs_directory(breached(case_id=event.case_id))


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


def test_breach_goes_to_the_departments_duty_phone():
    event = submitted()
    [notice] = domain.notices_for_breach(breached(case_id=event.case_id), _contact(event), DIRECTORY)
    assert (notice.recipient_kind, notice.phone, notice.template_code) == ("staff", "+8613900010002", "deadline_breached")
    assert notice.params["late"] == timedelta(days=2, hours=3) and notice.params["via_centre_head"] is False
    assert "超期2天3小时" in templates.render(notice.template_code, notice.params)


def test_breach_falls_back_to_the_centre_head():
    event = submitted(township_id="hexi")
    [notice] = domain.notices_for_breach(breached(case_id=event.case_id, township_id="hexi", department_code="veterans"),
                                         _contact(event), DIRECTORY)
    assert notice.phone == "+8613900030001" and notice.params["via_centre_head"] is True


def test_breach_in_a_township_without_any_duty_phone_is_an_error():
    with pytest.raises(domain.NoDutyContact):
        domain.duty_contact(DIRECTORY, township_id="nowhere", department_code="social_security")


def test_demo_directory_has_a_centre_head_in_every_township():
    heads = {d.township_id for d in DIRECTORY if d.department_code is None}
    assert heads == {"qingshui", "baishi", "hexi"}


def test_lateness_is_never_negative():
    assert domain.lateness(DEADLINE, DEADLINE - timedelta(seconds=1)) == timedelta(0)
    assert domain.lateness(DEADLINE, DEADLINE + timedelta(hours=3)) == timedelta(hours=3)


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
