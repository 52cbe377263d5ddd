"""The sending rules on real Kafka and PostgreSQL, the notify clock moved by the tests: once per event,
recipient and template; merging; quiet hours; limits that delay and never drop."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from contracts.events import CaseCompleted, CaseSubmitted, DeadlineBreached
from contracts.topics import INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS
from contracts.workdays import SHANGHAI
from services.kit.service import Runtime
from services.kit.testing import FixedClock, auth_header, eventually, running_app, start_group_at_end
from services.notify import commands, store
from services.notify.app import create_app
from services.notify.settings import NotifySettings
from services.notify.tests.builders import breached, staff_contact, submitted, unique_phone
from services.notify.tests.probes import publish, publish_staff_contacts, skip_other_suites_cases

pytestmark = pytest.mark.integration
INSPECTOR = auth_header("inspector", None)
MERGE_WINDOW = timedelta(seconds=60)
PER_HOUR = 3
TOPICS = sorted({CaseSubmitted.TOPIC, CaseCompleted.TOPIC, DeadlineBreached.TOPIC, INTAKE_CONTACTS,
                 ROUTING_STAFF_CONTACTS})


@dataclass
class Notify:
    client: httpx.AsyncClient
    runtime: Runtime
    clock: FixedClock

    def advance(self, by: timedelta) -> datetime:
        self.clock.at += by
        return self.clock.at


def _ten_in_the_morning() -> datetime:
    """Today 10:00 in Shanghai: a working morning, a few hours from the events' real occurred_at."""
    return datetime.combine(datetime.now(SHANGHAI).date(), datetime.min.time().replace(hour=10), tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
async def notify(infra, make_database):
    suffix = f"-it-{uuid4().hex[:8]}"
    settings = NotifySettings(
        DATABASE_URL=await make_database("it_notify_rules"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
        BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, send_interval=0.1, send_backoff_first=0.1,
        merge_window_seconds=MERGE_WINDOW.total_seconds(), limit_per_minute=2, limit_per_hour=PER_HOUR,
    )
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-notify{suffix}", TOPICS)
    app = create_app(settings)
    clock = FixedClock(_ten_in_the_morning())
    app.state.runtime.clock = clock  # handlers and the sender read it at each call
    skip_other_suites_cases(app.state.runtime.inbox)
    async with running_app(app) as client:
        yield Notify(client, app.state.runtime, clock)


async def _messages(notify: Notify, case_id: UUID) -> list[dict]:
    resp = await notify.client.get("/api/v1/messages", params={"case_id": str(case_id)}, headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _one(notify: Notify, case_id: UUID, *, status: str, waiting_for: str | None = None) -> dict:
    async def probe():
        found = await _messages(notify, case_id)
        return found[0] if len(found) == 1 and found[0]["status"] == status \
            and found[0]["waiting_for"] == waiting_for else None
    return await eventually(probe, what=f"the message of {case_id} {status} {waiting_for or ''}")


async def _sms_to(runtime, phone: str) -> list[dict]:
    """What the development provider was handed for the number: one row per provider call."""
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT message_id, text FROM dev_sms_log WHERE phone = $1 ORDER BY recorded_at", phone)
    return [dict(r) for r in rows]


async def _announced(runtime, case_id: UUID) -> int:
    async with runtime.pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM events WHERE case_id = $1 AND event_type = 'NotificationSent'", case_id)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_redelivered_event_is_sent_once_and_one_event_may_say_two_things(notify, infra):
    runtime, phone = notify.runtime, unique_phone()
    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event, event)
    await _one(notify, event.case_id, status="queued", waiting_for="merge_window")
    async with runtime.pool.acquire() as conn, conn.transaction():
        # Past the inbox's own check, as after a restart that lost it: the queue's key refuses it again.
        await commands.on_case_submitted(conn, event, now=notify.clock.now(), max_age=timedelta(hours=48))

    notify.advance(MERGE_WINDOW)
    sent = await _one(notify, event.case_id, status="sent")
    assert [s["message_id"] for s in await _sms_to(runtime, phone)] == [UUID(sent["id"])]
    assert await _announced(runtime, event.case_id) == 1

    # The key is (event, recipient, template): the same event and person, another template, is another SMS.
    async with runtime.pool.acquire() as conn:
        common = dict(case_id=event.case_id, township_id="qingshui", trigger_event_id=event.event_id,
                      recipient_kind="resident", recipient_id="", phone=phone, text="x", at=notify.clock.now())
        assert not await store.queue_message(conn, message_id=uuid4(), template_code="case_submitted", **common)
        assert await store.queue_message(conn, message_id=uuid4(), template_code="materials_requested", **common)
        await conn.execute("DELETE FROM messages WHERE template_code = 'materials_requested' AND trigger_event_id = $1",
                           event.event_id)


async def test_three_events_for_one_resident_within_the_window_are_one_sms(notify, infra):
    runtime, phone = notify.runtime, unique_phone()
    first, second, third = (submitted(phone=phone, case_no=f"QS-20261124-000{i}") for i in (1, 2, 3))
    await publish(infra.kafka_bootstrap, first)
    await _one(notify, first.case_id, status="queued", waiting_for="merge_window")
    notify.advance(timedelta(seconds=20))
    await publish(infra.kafka_bootstrap, second, third)
    for event in (second, third):
        held = await _one(notify, event.case_id, status="queued", waiting_for="merge_window")
        # The window counts from the first message to the number, not from each.
        assert _at(held["next_attempt_at"]) == notify.clock.at - timedelta(seconds=20) + MERGE_WINDOW
    assert await _sms_to(runtime, phone) == []

    notify.advance(MERGE_WINDOW)
    sent = [await _one(notify, e.case_id, status="sent") for e in (first, second, third)]
    [sms] = await _sms_to(runtime, phone)
    assert {s["sent_in"] for s in sent} == {str(sms["message_id"])} == {sent[0]["id"]}
    assert sms["text"].count("【清水镇便民服务中心】") == 1 and sms["text"].count("【") == 1  # the township signs once
    for case_no in ("QS-20261124-0001", "QS-20261124-0002", "QS-20261124-0003"):
        assert sms["text"].count(case_no) == 1
    for event in (first, second, third):  # each message still tells its own story
        assert await _announced(runtime, event.case_id) == 1


async def test_a_limit_delays_a_message_and_never_drops_it(notify, infra):
    runtime, phone = notify.runtime, unique_phone()
    events = [submitted(phone=phone, case_no=f"QS-20261124-01{i:02d}") for i in range(PER_HOUR + 1)]
    first_sent = None
    for event in events:  # one by one, each past the merge window: one SMS each while the limit allows
        await publish(infra.kafka_bootstrap, event)
        await _one(notify, event.case_id, status="queued", waiting_for="merge_window")
        notify.advance(MERGE_WINDOW)
        if event is not events[-1]:
            sent = await _one(notify, event.case_id, status="sent")
            first_sent = first_sent or _at(sent["sent_at"])
    assert first_sent is not None
    held = await _one(notify, events[-1].case_id, status="queued", waiting_for="rate_limit")
    assert _at(held["next_attempt_at"]) == first_sent + timedelta(hours=1)
    assert len(await _sms_to(runtime, phone)) == PER_HOUR

    notify.clock.at = first_sent + timedelta(hours=1)
    late = await _one(notify, events[-1].case_id, status="sent")
    assert _at(late["sent_at"]) == first_sent + timedelta(hours=1)
    assert len(await _sms_to(runtime, phone)) == PER_HOUR + 1


async def test_at_night_a_resident_waits_until_eight_and_a_breach_alert_does_not(notify, infra):
    runtime, phone = notify.runtime, unique_phone()
    night = datetime.combine(notify.clock.at.astimezone(SHANGHAI).date(), datetime.min.time().replace(hour=22),
                             tzinfo=SHANGHAI)
    assert night > notify.clock.at
    notify.clock.at = night
    township = f"t-{uuid4().hex[:8]}"
    holder = staff_contact(f"{township}-holder", township_id=township)
    await publish_staff_contacts(infra.kafka_bootstrap, holder)

    async def known() -> bool:
        async with runtime.pool.acquire() as conn:
            return await store.load_staff(conn, holder.staff_id) is not None
    await eventually(known, what="the holder's number")

    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event)
    held = await _one(notify, event.case_id, status="queued", waiting_for="quiet_hours")
    morning = night + timedelta(hours=10)
    assert _at(held["next_attempt_at"]) == morning and morning.astimezone(SHANGHAI).hour == 8

    breach = breached(case_id=uuid4(), township_id=township, staff_id=holder.staff_id)
    await publish(infra.kafka_bootstrap, breach)
    alert = await _one(notify, breach.case_id, status="sent")
    assert _at(alert["sent_at"]) == night and alert["template_code"] == "deadline_breached"
    assert await _sms_to(runtime, phone) == []

    notify.clock.at = morning
    sent = await _one(notify, event.case_id, status="sent")
    assert _at(sent["sent_at"]) == morning
    [sms] = await _sms_to(runtime, phone)
    assert sms["text"] == sent["text"] and phone not in json.dumps(sent)


async def test_a_message_held_before_the_clock_moved_back_is_not_parked_until_it_catches_up(notify, infra):
    """The demo moves the clock on and back: what was held then goes out now, not when the clock
    catches up. (30 hours on: further than any rule holds, within the age of an event worth telling.)"""
    runtime, phone = notify.runtime, unique_phone()
    today = _ten_in_the_morning()
    notify.clock.at = today + timedelta(hours=30)
    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event)
    held = await _one(notify, event.case_id, status="queued", waiting_for="merge_window")
    assert _at(held["next_attempt_at"]) == today + timedelta(hours=30) + MERGE_WINDOW

    notify.clock.at = today

    async def held_again():
        [message] = await _messages(notify, event.case_id)
        return _at(message["next_attempt_at"]) == today + MERGE_WINDOW
    await eventually(held_again, what="the message held from the clock's present")
    notify.advance(MERGE_WINDOW)
    sent = await _one(notify, event.case_id, status="sent")
    assert _at(sent["sent_at"]) == today + MERGE_WINDOW and len(await _sms_to(runtime, phone)) == 1
