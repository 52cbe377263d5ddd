"""Notify and staff, on real PostgreSQL and Kafka: numbers from routing's staff-contacts topic, warnings,
breaches and flags to the holder and the centre head, staff who left, staff nobody can reach, and the
resident told of a changed deadline."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from prometheus_client import REGISTRY

from contracts.personal_data import mask_phone
from services.kit.testing import auth_header, eventually
from services.notify.recipients import CENTRE_HEAD
from services.notify.tests.builders import (
    PHONES,
    breached,
    extended,
    flagged,
    paused,
    staff_contact,
    submitted,
    unique_phone,
    warning,
)
from services.notify.tests.probes import (
    notify_for_notices,
    own_township,
    publish,
    publish_staff_contacts,
    staff_left,
)

pytestmark = pytest.mark.integration
INSPECTOR = auth_header("inspector", None)  # reads every township: each test has a township of its own


@pytest.fixture(scope="module")
async def notify(infra, make_database):
    async with notify_for_notices(infra, make_database, "it_notify_staff") as running:
        yield running


_township = own_township


def _staff(township_id: str, *, role: str = "staff", name: str = "王芳"):
    return staff_contact(f"{township_id}-{role}-{uuid4().hex[:4]}", township_id=township_id, role=role, name=name,
                         department_code="general_window" if role == "centre_head" else "social_security")


async def _rows(runtime, sql: str, *args) -> list[dict]:
    async with runtime.pool.acquire() as conn:
        return [dict(r) for r in await conn.fetch(sql, *args)]


async def _queued(runtime, event_id: UUID, count: int) -> list[dict]:
    """The messages an event queued, by recipient, once there are `count`."""
    async def probe():
        rows = await _rows(runtime, "SELECT recipient_kind, recipient_id, phone, template_code, text FROM messages"
                                    " WHERE trigger_event_id = $1 ORDER BY recipient_id", event_id)
        return rows if len(rows) == count else None
    return await eventually(probe, what=f"{count} message(s) of event {event_id}")


async def _staff_row(runtime, staff_id: str) -> dict | None:
    rows = await _rows(runtime, "SELECT phone, version, left_at FROM staff_contacts WHERE staff_id = $1", staff_id)
    return rows[0] if rows else None


def _unreachable_count() -> float:
    return REGISTRY.get_sample_value("bianmin_sms_unreachable_total", {"template_code": "deadline_breached"}) or 0.0


async def _known(runtime, *contacts) -> None:
    for c in contacts:
        await eventually(lambda c=c: _has_version(runtime, c.staff_id, c.version), what=f"{c.staff_id}'s number")


async def _has_version(runtime, staff_id: str, version: int) -> bool:
    row = await _staff_row(runtime, staff_id)
    return bool(row and row["version"] >= version)


async def test_a_breach_reaches_the_holder_and_the_centre_head(notify, infra):
    client, runtime = notify
    township = _township()
    holder, head = _staff(township), _staff(township, role="centre_head", name="赵主任")
    await publish_staff_contacts(infra.kafka_bootstrap, holder, head)
    await _known(runtime, holder, head)

    # A complaint's breach: no CaseSubmitted ever comes, nothing waits for one.
    event = breached(case_id=uuid4(), township_id=township, staff_id=holder.staff_id, kind="complaint",
                     case_no="TS-20261123-0003", subject="窗口人员外出未公示去向")
    await publish(infra.kafka_bootstrap, event)

    rows = {r["recipient_id"]: r for r in await _queued(runtime, event.event_id, 2)}
    assert await _rows(runtime, "SELECT 1 FROM parked_events WHERE case_id = $1", event.case_id) == []
    assert {k: (r["recipient_kind"], r["phone"]) for k, r in rows.items()} == {
        holder.staff_id: ("staff", holder.phone), head.staff_id: ("staff", head.phone)}
    assert rows[holder.staff_id]["text"].startswith("【便民服务】王芳：TS-20261123-0003（窗口人员外出未公示去向）的投诉答复期限")
    assert rows[head.staff_id]["text"].endswith("承办人：社保站王芳，请督办。")

    async def sent():
        found = (await client.get("/api/v1/messages", params={"case_id": str(event.case_id)},
                                  headers=INSPECTOR)).json()
        return found if len(found) == 2 and all(m["status"] == "sent" for m in found) else None
    shown = await eventually(sent, what="both staff SMS sent")
    assert {m["phone"] for m in shown} == {mask_phone(holder.phone), mask_phone(head.phone)}
    # Delivered again, the event queues nothing more.
    await publish(infra.kafka_bootstrap, event, breached(case_id=event.case_id, township_id=township))
    await eventually(lambda: _count(runtime, event.case_id, 3), what="the second breach's message")
    assert len(await _rows(runtime, "SELECT 1 FROM messages WHERE trigger_event_id = $1", event.event_id)) == 2


async def _count(runtime, case_id: UUID, count: int) -> bool:
    return len(await _rows(runtime, "SELECT 1 FROM messages WHERE case_id = $1", case_id)) == count


async def test_a_warning_reaches_the_holder_and_an_unheld_one_the_head(notify, infra):
    _, runtime = notify
    township = _township()
    holder, head = _staff(township), _staff(township, role="centre_head", name="赵主任")
    await publish_staff_contacts(infra.kafka_bootstrap, holder, head)
    await _known(runtime, holder, head)

    held = warning(case_id=uuid4(), township_id=township, staff_id=holder.staff_id)
    unheld = warning(case_id=uuid4(), township_id=township, staff_id=None)
    await publish(infra.kafka_bootstrap, held, unheld)

    [to_holder] = await _queued(runtime, held.event_id, 1)
    assert (to_holder["recipient_id"], to_holder["phone"], to_holder["template_code"]) == (
        holder.staff_id, holder.phone, "deadline_warning")
    assert "黄灯" in to_holder["text"]
    [to_head] = await _queued(runtime, unheld.event_id, 1)
    assert to_head["recipient_id"] == head.staff_id and "尚无承办人" in to_head["text"]


async def test_a_flag_reaches_the_centre_head_with_the_path(notify, infra):
    _, runtime = notify
    township = _township()
    head = _staff(township, role="centre_head", name="赵主任")
    await publish_staff_contacts(infra.kafka_bootstrap, head)
    await _known(runtime, head)
    case = submitted(township_id=township, phone=unique_phone(), case_no="QS-20261123-0042")
    flag = flagged(case_id=case.case_id, township_id=township)
    await publish(infra.kafka_bootstrap, case, flag)

    [message] = await _queued(runtime, flag.event_id, 1)
    assert (message["recipient_kind"], message["recipient_id"], message["phone"]) == ("staff", head.staff_id, head.phone)
    assert "办件QS-20261123-0042" in message["text"] and "流转经过：医保站→社保站→医保站" in message["text"]


async def test_a_staff_member_who_left_is_forgotten_and_recorded_as_unreachable(notify, infra):
    _, runtime = notify
    township = _township()
    holder = _staff(township)
    await publish_staff_contacts(infra.kafka_bootstrap, holder)
    await _known(runtime, holder)
    first = breached(case_id=uuid4(), township_id=township, staff_id=holder.staff_id)
    await publish(infra.kafka_bootstrap, first)
    await _queued(runtime, first.event_id, 1)

    await staff_left(infra.kafka_bootstrap, holder.staff_id)

    async def forgotten():
        row = await _staff_row(runtime, holder.staff_id)
        return row if row and row["left_at"] else None
    assert (await eventually(forgotten, what="the number to be forgotten"))["phone"] is None
    kept = await _rows(runtime, "SELECT phone FROM messages WHERE recipient_id = $1 UNION ALL SELECT l.phone"
                                " FROM dev_sms_log l JOIN messages m USING (message_id) WHERE m.recipient_id = $1",
                       holder.staff_id)
    assert holder.phone not in {r["phone"] for r in kept} and mask_phone(holder.phone) in {r["phone"] for r in kept}

    # The older record replayed does not bring the number back; a breach now reaches nobody, and says so.
    unreachable_before = _unreachable_count()
    await publish_staff_contacts(infra.kafka_bootstrap, holder)
    later = breached(case_id=uuid4(), township_id=township, staff_id=holder.staff_id)
    await publish(infra.kafka_bootstrap, later)

    async def recorded():
        rows = await _rows(runtime, "SELECT recipient_id, case_id, township_id, template_code FROM unreachable_notices"
                                    " WHERE trigger_event_id = $1 ORDER BY recipient_id", later.event_id)
        return rows if len(rows) == 2 else None
    assert await eventually(recorded, what="the unreachable staff to be recorded") == [
        {"recipient_id": CENTRE_HEAD, "case_id": later.case_id, "township_id": township,
         "template_code": "deadline_breached"},
        {"recipient_id": holder.staff_id, "case_id": later.case_id, "township_id": township,
         "template_code": "deadline_breached"}]
    assert _unreachable_count() == unreachable_before + 2
    assert (await _staff_row(runtime, holder.staff_id))["phone"] is None
    assert await _rows(runtime, "SELECT 1 FROM messages WHERE trigger_event_id = $1", later.event_id) == []

    # Taken on again (a newer version): reachable again.
    back = staff_contact(holder.staff_id, township_id=township, phone=unique_phone(), version=2)
    await publish_staff_contacts(infra.kafka_bootstrap, back)
    await _known(runtime, back)
    again = warning(case_id=uuid4(), township_id=township, staff_id=holder.staff_id)
    await publish(infra.kafka_bootstrap, again)
    assert [r["phone"] for r in await _queued(runtime, again.event_id, 1)] == [back.phone]


async def test_the_resident_hears_of_an_extension_not_of_a_pause_for_materials(notify, infra):
    _, runtime = notify
    case = submitted(township_id=_township(), phone=unique_phone())
    materials = paused(case_id=case.case_id, reason="materials", note="补正户口簿")
    longer = extended(case_id=case.case_id, township_id=case.township_id)
    await publish(infra.kafka_bootstrap, case, materials, longer)

    [message] = await _queued(runtime, longer.event_id, 1)
    assert (message["recipient_kind"], message["phone"], message["template_code"]) == (
        "resident", PHONES[case.case_id], "deadline_extended")
    assert "延长办理期限10个工作日" in message["text"] and "2026年12月21日前办结" in message["text"]
    # The pause came before the extension on the case's partition: handled, told nobody, parked nowhere.
    assert await _rows(runtime, "SELECT event_id FROM processed_events WHERE event_id = $1", materials.event_id)
    assert await _rows(runtime, "SELECT 1 FROM messages WHERE trigger_event_id = $1", materials.event_id) == []
    assert await _rows(runtime, "SELECT 1 FROM parked_events WHERE event_id = $1", materials.event_id) == []
