"""The bad-rating loop's messages on real PostgreSQL and Kafka (docs/adr/0036-rating-loop-messages.md): routing's
FollowUpOpened, RectificationRecorded, RatingAppealed, RatingAppealDecided and a follow-up's breach, published to
the topics, reach the resident, the owner and the centre head; the second rating link comes on the contact record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.contacts import CaseContact
from contracts.personal_data import mask_phone
from contracts.rating_events import FOLLOW_UP_VISIT
from services.kit.testing import auth_header, eventually
from services.notify.tests.builders import breached, staff_contact, submitted, unique_phone
from services.notify.tests.probes import notify_for_notices, own_township, publish, publish_contacts, publish_staff_contacts
from services.notify.tests.rating_loop_events import appeal_decided, appealed, follow_up_opened, rectified

pytestmark = pytest.mark.integration
INSPECTOR = auth_header("inspector", None)  # reads every township: each test has a township of its own


@pytest.fixture(scope="module")
async def notify(infra, make_database):
    async with notify_for_notices(infra, make_database, "it_notify_follow_up") as running:
        yield running


async def _staff(bootstrap: str, runtime, township_id: str, *, role: str = "staff", name: str = "王芳"):
    contact = staff_contact(f"{township_id}-{role}-{uuid4().hex[:4]}", township_id=township_id, role=role, name=name,
                            department_code="general_window" if role == "centre_head" else "social_security")
    await publish_staff_contacts(bootstrap, contact)

    async def known() -> bool:
        async with runtime.pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT 1 FROM staff_contacts WHERE staff_id = $1", contact.staff_id))
    await eventually(known, what=f"{contact.staff_id}'s number")
    return contact


async def _messages(client, case_id: UUID, count: int) -> list[dict]:
    async def probe():
        resp = await client.get("/api/v1/messages", params={"case_id": str(case_id)}, headers=INSPECTOR)
        assert resp.status_code == 200, resp.text
        found = resp.json()
        return found if len(found) == count else None
    return await eventually(probe, what=f"{count} message(s) of case {case_id}")


def _sent(messages: list[dict]) -> set[tuple[str, str]]:
    return {(m["template_code"], m["phone"]) for m in messages}


async def test_a_bad_rating_is_followed_up_answered_appealed_and_decided_by_sms(notify, infra):
    client, runtime = notify
    township = own_township()
    owner = await _staff(infra.kafka_bootstrap, runtime, township)
    head = await _staff(infra.kafka_bootstrap, runtime, township, role="centre_head", name="赵主任")
    phone = unique_phone()
    case = submitted(township_id=township, phone=phone)
    opened = follow_up_opened(case_id=case.case_id, township_id=township, owner=owner.staff_id)
    await publish(infra.kafka_bootstrap, opened)  # before its case: it waits for the case and the number
    await publish(infra.kafka_bootstrap, case)
    messages = await _messages(client, case.case_id, 4)
    assert _sent(messages) == {("case_submitted", mask_phone(phone)), ("rating_received", mask_phone(phone)),
                               ("follow_up_opened", mask_phone(owner.phone)), ("follow_up_opened", mask_phone(head.phone))}
    received = next(m for m in messages if m["template_code"] == "rating_received")
    assert "我们将在1个工作日内（2026年11月25日前）与您联系核实" in received["text"]

    late = breached(case_id=case.case_id, township_id=township, staff_id=owner.staff_id, kind="follow_up")
    late = late.model_copy(update={"payload": late.payload.model_copy(update={"deadline_key": FOLLOW_UP_VISIT})})
    answered = rectified(case_id=case.case_id, township_id=township)
    await publish(infra.kafka_bootstrap, late, answered, appealed(case_id=case.case_id, township_id=township,
                                                                  appellant=owner.staff_id),
                  appeal_decided(case_id=case.case_id, township_id=township, appellant=owner.staff_id, upheld=False))
    # intake's second rating link, on the contact record like the first
    now = datetime.now(UTC)
    await publish_contacts(infra.kafka_bootstrap, CaseContact(
        case_id=case.case_id, township_id=township, version=2, recorded_at=now, applicant_phone=phone,
        rating_link="/api/v1/rate/" + "b" * 48, rating_link_expires_at=now + timedelta(days=7), rating_round=2))
    messages = await _messages(client, case.case_id, 10)
    by_code: dict[str, list[dict]] = {}
    for m in messages:
        by_code.setdefault(m["template_code"], []).append(m)
    assert {m["phone"] for m in by_code["follow_up_breached"]} == {mask_phone(owner.phone), mask_phone(head.phone)}
    assert "差评的回访核实期限" in by_code["follow_up_breached"][0]["text"]
    [answer] = by_code["rectification_answer"]
    assert answer["phone"] == mask_phone(phone) and "www" not in answer["text"]
    assert answer["text"].endswith("欢迎您再次评价，评价链接将另发短信。")
    [again] = by_code["rating_again_invitation"]
    assert again["phone"] == mask_phone(phone) and "/api/v1/rate/" + "b" * 48 in again["text"]
    [to_head] = by_code["rating_appealed"]
    assert to_head["phone"] == mask_phone(head.phone) and "对法律政策本身不满" in to_head["text"]
    [decided] = by_code["rating_appeal_decided"]
    assert decided["phone"] == mask_phone(owner.phone) and "不予支持" in decided["text"]
