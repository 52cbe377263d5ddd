"""The messages of docs/adr/0029-sms-templates.md on real PostgreSQL and Kafka: the one-time notice before
acceptance, a tolerated material's reminder to the resident, the new holder, a bad rating and a complaint to
the centre head, billing segments in the message list, and a message that cannot be written kept as failed
while the consumer goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import yaml

from contracts.personal_data import mask_phone
from services.kit.testing import auth_header, eventually
from services.notify import templates
from services.notify.sms_text import billing_segments
from services.notify.tests.builders import (
    assigned,
    complaint,
    contact_of,
    materials_requested,
    rated,
    staff_contact,
    submitted,
    transferred,
    unique_phone,
    warning,
)
from services.notify.tests.probes import (
    notify_for_notices,
    own_township,
    publish,
    publish_contacts,
    publish_staff_contacts,
)

pytestmark = pytest.mark.integration
INSPECTOR = auth_header("inspector", None)  # reads every township: each test has a township of its own


@pytest.fixture(scope="module")
async def notify(infra, make_database):
    async with notify_for_notices(infra, make_database, "it_notify_more") as running:
        yield running


_township = own_township


async def _staff(bootstrap: str, runtime, township_id: str, *, role: str = "staff", name: str = "王芳"):
    contact = staff_contact(f"{township_id}-{role}-{uuid4().hex[:4]}", township_id=township_id, role=role, name=name,
                            department_code="general_window" if role == "centre_head" else "social_security")
    await publish_staff_contacts(bootstrap, contact)

    async def known() -> bool:
        async with runtime.pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT 1 FROM staff_contacts WHERE staff_id = $1", contact.staff_id))
    await eventually(known, what=f"{contact.staff_id}'s number")
    return contact


async def _messages(client, case_id: UUID, count: int, *, status: str = "sent") -> list[dict]:
    async def probe():
        resp = await client.get("/api/v1/messages", params={"case_id": str(case_id)}, headers=INSPECTOR)
        assert resp.status_code == 200, resp.text
        found = resp.json()
        return found if len(found) == count and all(m["status"] == status for m in found) else None
    return await eventually(probe, what=f"{count} {status} message(s) of case {case_id}")


async def test_the_one_time_notice_reaches_the_resident_before_acceptance(notify, infra):
    client, _ = notify
    phone = unique_phone()
    notice = materials_requested(phone=phone, township_id="qingshui")
    # No CaseSubmitted yet: the notice itself makes the case known; intake keeps the number from the application on.
    await publish(infra.kafka_bootstrap, notice)
    await publish_contacts(infra.kafka_bootstrap, contact_of(notice))

    [message] = await _messages(client, notice.case_id, 1)
    assert (message["template_code"], message["phone"]) == ("materials_requested", mask_phone(phone))
    assert message["text"].startswith("【清水镇便民服务中心】张三您好") and "户口簿、本人银行卡或存折" in message["text"]
    assert message["segments"] == billing_segments(message["text"]) == 2
    assert message["template_version"].startswith(templates.book().version + "/")

    # accepted later: the receipt follows, and the case stays the one the notice opened
    accepted = submitted(case_id=notice.case_id, phone=phone)
    await publish(infra.kafka_bootstrap, accepted, contacts=False)
    codes = [m["template_code"] for m in await _messages(client, notice.case_id, 2)]
    assert codes == ["materials_requested", "case_submitted"]


async def test_staff_hear_of_a_case_to_hold_a_bad_rating_and_a_complaint(notify, infra):
    client, runtime = notify
    township = _township()
    holder = await _staff(infra.kafka_bootstrap, runtime, township)
    head = await _staff(infra.kafka_bootstrap, runtime, township, role="centre_head", name="赵主任")
    case = submitted(township_id=township, phone=unique_phone())
    await publish(infra.kafka_bootstrap, case, assigned(case_id=case.case_id, township_id=township,
                                                        staff_id=holder.staff_id),
                  rated(case_id=case.case_id, township_id=township, score=1, comment="等了\n两个小时"))
    by_code = {m["template_code"]: m for m in await _messages(client, case.case_id, 3)}
    assert set(by_code) == {"case_submitted", "case_to_hold", "bad_rating"}
    assert by_code["case_to_hold"]["phone"] == mask_phone(holder.phone)
    assert by_code["case_to_hold"]["text"].startswith("【便民服务】王芳：办件QS-20261123-0001（城乡居民养老保险待遇申领）已由您")
    assert by_code["bad_rating"]["phone"] == mask_phone(head.phone)
    assert "收到差评（1分），评价：等了 两个小时。" in by_code["bad_rating"]["text"]

    registered = complaint(township_id=township)  # a complaint waits for no case and no resident number
    await publish(infra.kafka_bootstrap, registered)
    [message] = await _messages(client, registered.case_id, 1)
    assert (message["template_code"], message["phone"]) == ("complaint_registered", mask_phone(head.phone))
    assert "李四" not in message["text"]


async def test_a_tolerated_material_falling_due_reminds_the_holder_and_the_resident(notify, infra):
    client, runtime = notify
    township = _township()
    holder = await _staff(infra.kafka_bootstrap, runtime, township)
    phone = unique_phone()
    case = submitted(township_id=township, phone=phone, materials_tolerated_missing=["hukou"])
    due = warning(case_id=case.case_id, township_id=township, staff_id=holder.staff_id, kind="tolerated_material",
                  subject="户口簿")
    await publish(infra.kafka_bootstrap, due)  # before the case: it waits for the resident's number
    await publish(infra.kafka_bootstrap, case)
    messages = await _messages(client, case.case_id, 3)
    reminded = {(m["template_code"], m["phone"]) for m in messages}
    assert reminded == {("case_submitted", mask_phone(phone)), ("deadline_warning", mask_phone(holder.phone)),
                        ("tolerated_material_due", mask_phone(phone))}


async def test_a_message_that_cannot_be_written_is_kept_failed_and_the_consumer_goes_on(notify, infra, tmp_path: Path,
                                                                                        monkeypatch):
    client, runtime = notify
    raw = yaml.safe_load(templates.TEMPLATE_FILE.read_text(encoding="utf-8"))
    raw["templates"]["case_to_hold"]["text"] = ["{staff_name}：办件{case_no}请到{room}领取。"]  # no event gives `room`
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(templates, "book", lambda: templates.load(path))

    township = _township()
    holder = await _staff(infra.kafka_bootstrap, runtime, township)
    case = submitted(township_id=township, phone=unique_phone())
    moved = transferred(case_id=case.case_id, township_id=township, to_staff_id=holder.staff_id)
    after = submitted(township_id=township, phone=unique_phone())
    await publish(infra.kafka_bootstrap, case, moved, after)

    async def settled():
        resp = await client.get("/api/v1/messages", params={"case_id": str(case.case_id)}, headers=INSPECTOR)
        found = {m["template_code"]: m for m in resp.json()}
        return found if found.get("case_submitted", {}).get("status") == "sent" and "case_to_hold" in found else None
    found = await eventually(settled, what="the receipt sent and the holder's message recorded")
    failed = found["case_to_hold"]
    assert (failed["status"], failed["text"], failed["segments"], failed["attempts"]) == ("failed", "", 0, 0)
    assert "'room'" in failed["last_error"] and "case_to_hold" in failed["last_error"]
    assert [m["template_code"] for m in await _messages(client, after.case_id, 1)] == ["case_submitted"]


async def test_a_rating_link_on_the_contact_record_invites_the_resident_once(notify, infra):
    client, runtime = notify
    phone = unique_phone()
    case = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, case)
    await _messages(client, case.case_id, 1)

    path = "/api/v1/rate/" + "Ab_-" * 12
    linked = contact_of(case, version=2).model_copy(update={
        "rating_link": path, "rating_link_expires_at": datetime.now(UTC) + timedelta(days=7)})
    expired = contact_of(case, version=3).model_copy(update={
        "rating_link": "/api/v1/rate/" + "Zz09" * 12, "rating_link_expires_at": datetime.now(UTC) - timedelta(hours=1)})
    # the same record again (a redelivery, a re-read after restart) and an expired link: nothing more
    await publish_contacts(infra.kafka_bootstrap, linked, linked, expired)

    async def last_record_applied() -> bool:  # one key, one partition: the three records were handled in order
        async with runtime.pool.acquire() as conn:
            return await conn.fetchval("SELECT version FROM resident_phones WHERE case_id = $1", case.case_id) == 3
    await eventually(last_record_applied, what="the contact's third record")

    messages = await _messages(client, case.case_id, 2)
    invitation = messages[-1]
    assert (invitation["template_code"], invitation["phone"]) == ("rating_invitation", mask_phone(phone))
    assert f"{templates.book().site}{path} " in invitation["text"] and "无需登录" in invitation["text"]
