"""Notify against real PostgreSQL and Kafka: subscribers, queue, sender, provider retries, endpoint, dead letters."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from contracts.events import CaseCompleted, CaseSubmitted, DeadlineBreached, NotificationSent
from contracts.topics import INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS, dlq_of
from services.kit.service import Runtime
from services.kit.testing import FixedClock, auth_header, eventually, publish_records, running_app, start_group_at_end
from services.notify import commands, sender, store, templates
from services.notify.app import create_app
from services.notify.domain import SendPolicy, mask_phone
from services.notify.providers import DevSmsProvider
from services.notify.settings import NotifySettings
from services.notify.tests.builders import CASES, PHONES, completed, contact_of, submitted, unique_phone
from services.notify.tests.fakes import ScriptedProvider
from services.notify.tests.probes import consume_until, erase, publish, publish_contacts, skip_other_suites_cases
from services.notify.tests.rules_off import RULES_OFF

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui")
MAX_SEND_ATTEMPTS = 4
GROUP = "bianmin-notify"
MAX_AGE = timedelta(hours=48)
SUBSCRIBED = (CaseSubmitted, CaseCompleted, DeadlineBreached)
TOPICS = sorted({*(t.TOPIC for t in SUBSCRIBED), INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS})


@dataclass
class Notify:
    client: httpx.AsyncClient
    runtime: Runtime
    provider: ScriptedProvider
    group: str


@pytest.fixture(scope="module")
async def notify(infra, make_database):
    suffix = f"-it-{uuid4().hex[:8]}"  # our own group: a running system or another test run keeps its partitions
    settings = NotifySettings(
        DATABASE_URL=await make_database("it_notify"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
        BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, send_interval=0.1, send_backoff_first=0.1, **RULES_OFF,
        send_max_attempts=MAX_SEND_ATTEMPTS,
    )
    await start_group_at_end(infra.kafka_bootstrap, f"{GROUP}{suffix}", TOPICS)
    app = create_app(settings)
    skip_other_suites_cases(app.state.runtime.inbox)
    async with running_app(app) as client:
        runtime = app.state.runtime
        scripted = ScriptedProvider(runtime.deps.provider)  # the same place the app wires the provider in
        runtime.deps.provider = scripted
        yield Notify(client, runtime, scripted, group=f"{GROUP}{suffix}")


async def _messages(client, case_id: UUID, *, headers=STAFF) -> list[dict]:
    resp = await client.get("/api/v1/messages", params={"case_id": str(case_id)}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _settled(client, case_id: UUID, *, count: int = 1, status: str = "sent", headers=STAFF) -> list[dict]:
    async def probe():
        found = await _messages(client, case_id, headers=headers)
        return found if len(found) == count and all(m["status"] == status for m in found) else None
    return await eventually(probe, what=f"{count} {status} message(s) of case {case_id}")


async def _notification_events(runtime, case_id: UUID) -> int:
    async with runtime.pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM events WHERE case_id = $1 AND event_type = 'NotificationSent'", case_id)


async def test_messages_need_a_token_and_a_case_id(notify):
    client = notify.client
    assert (await client.get("/api/v1/messages", params={"case_id": str(uuid4())})).json()["code"] == "TOKEN_MISSING"
    missing = await client.get("/api/v1/messages", headers=STAFF)
    assert missing.status_code == 422 and missing.json()["code"] == "VALIDATION_FAILED"
    assert "请求内容" in missing.json()["message"] and missing.json()["details"][0]["field"] == "case_id"
    assert (await client.get("/api/v1/messages", params={"case_id": "QS-1"}, headers=STAFF)).status_code == 422
    assert await _messages(client, uuid4()) == []


async def test_submission_sends_the_resident_an_sms_and_announces_it(notify, infra):
    client, runtime = notify.client, notify.runtime
    phone = unique_phone()
    event = submitted(phone=phone, materials_tolerated_missing=["photo"])
    await publish(infra.kafka_bootstrap, event)

    [message] = await _settled(client, event.case_id)
    expected = templates.compose("case_submitted", {
        "applicant_name": "张三", "item_name": "城乡居民养老保险待遇申领", "case_no": "QS-20261123-0001",
        "deadline": event.payload.promised_deadline, "tolerated_missing": True}, township_id="qingshui")
    expected_text = expected.text
    assert expected_text.startswith("【清水镇便民服务中心】")
    assert (message["segments"], message["template_version"]) == (expected.segments, expected.version)
    assert message["phone"] == mask_phone(phone) and phone[3:] not in json.dumps(message)
    assert (message["recipient_kind"], message["template_code"], message["attempts"]) == ("resident", "case_submitted", 1)
    assert message["text"] == expected_text and message["sent_at"] is not None
    async with runtime.pool.acquire() as conn:
        logged = await conn.fetchrow("SELECT phone, text FROM dev_sms_log WHERE message_id = $1", UUID(message["id"]))
    assert dict(logged) == {"phone": phone, "text": expected_text}

    # Another running system may announce the same case too: match our message id.
    record = await consume_until(infra.kafka_bootstrap, NotificationSent.TOPIC,
                                  lambda r: json.loads(r.value)["payload"]["message_id"] == message["id"])
    body = json.loads(record.value)
    assert body["source"] == "notify" and body["actor"] == {"kind": "system", "id": "notify"}
    assert body["causation_id"] == str(event.event_id) and body["stream_version"] == 1
    assert body["payload"]["message_id"] == message["id"] and body["payload"]["provider"] == "dev"
    assert body["payload"]["recipient_masked"] == mask_phone(phone) and phone[3:] not in record.value.decode()


async def test_duplicate_delivery_queues_one_message(notify, infra):
    client, runtime = notify.client, notify.runtime
    event = submitted(phone=unique_phone())
    first, _ = await publish(infra.kafka_bootstrap, event, event)
    # A later event on the same partition is handled only after both copies were.
    marker = submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, marker, partition=first.partition)
    await _settled(client, marker.case_id)

    [message] = await _settled(client, event.case_id)
    async with runtime.pool.acquire() as conn, conn.transaction():
        assert await conn.fetchval("SELECT count(*) FROM processed_events WHERE event_id = $1", event.event_id) == 1
        # Even past the inbox's own check, the queue's unique key refuses a second message for the event.
        await commands.on_case_submitted(conn, event, now=runtime.clock.now(), max_age=MAX_AGE)
    assert [m["id"] for m in await _messages(client, event.case_id)] == [message["id"]]
    assert await _notification_events(runtime, event.case_id) == 1


async def test_completion_tells_the_resident_the_result(notify, infra):
    client = notify.client
    granted, refused = submitted(phone=unique_phone()), submitted(phone=unique_phone())
    long_note = "已办结，养老保险待遇自次月起按月发放至您登记的社会保障卡银行账户，请注意查收。"
    await publish(infra.kafka_bootstrap, granted, refused)
    await publish(infra.kafka_bootstrap, completed(case_id=granted.case_id, note=long_note),
                   completed(case_id=refused.case_id, result="refused", note="不符合领取条件"))

    _, done = await _settled(client, granted.case_id, count=2)
    assert done["template_code"] == "case_completed_granted" and done["phone"] == mask_phone(PHONES[granted.case_id])
    assert "准予办理" in done["text"] and "…" in done["text"] and long_note not in done["text"]
    _, refusal = await _settled(client, refused.case_id, count=2)
    assert refusal["template_code"] == "case_completed_refused"
    assert "原因：不符合领取条件。" in refusal["text"] and "行政复议" in refusal["text"]


async def _parked(runtime, event_id: UUID) -> bool:
    async with runtime.pool.acquire() as conn:
        return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM parked_events WHERE event_id = $1)", event_id)


async def _dead_letters(runtime) -> int:
    async with runtime.pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM dead_letters")


async def test_completion_before_its_submission_is_parked_and_released(notify, infra):
    client, runtime = notify.client, notify.runtime
    event = submitted(phone=unique_phone())
    done = completed(case_id=event.case_id)
    dead_before = await _dead_letters(runtime)
    await publish(infra.kafka_bootstrap, done)
    await eventually(lambda: _parked(runtime, done.event_id), what="the completion to be parked")
    assert await _messages(client, event.case_id) == []
    await publish(infra.kafka_bootstrap, event)

    found = await _settled(client, event.case_id, count=2)
    assert [m["template_code"] for m in found] == ["case_submitted", "case_completed_granted"]
    assert not await _parked(runtime, done.event_id)
    assert await _dead_letters(runtime) == dead_before


async def test_a_completion_parked_while_its_submission_is_applied_is_still_released(notify):
    """Park and release of one case never interleave: without the per-case lock the submission would
    look for parked events before the park committed, and the completion would stay parked."""
    runtime = notify.runtime
    event = submitted(phone=unique_phone())
    done = completed(case_id=event.case_id)
    now = runtime.clock.now()
    async with runtime.pool.acquire() as conn:
        await store.save_phone(conn, contact_of(event))  # the number came first; the case decides the release
    async with runtime.pool.acquire() as first, runtime.pool.acquire() as second:
        parking = first.transaction()
        await parking.start()
        await commands.on_case_event(first, done, now=now, max_age=MAX_AGE)  # parked, not committed

        async def submit() -> None:
            async with second.transaction():
                await commands.on_case_submitted(second, event, now=now, max_age=MAX_AGE)

        releasing = asyncio.create_task(submit())

        async def submission_waits_for_the_case() -> bool:
            async with runtime.pool.acquire() as conn:
                return await conn.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1",
                                           second.get_server_pid())
        await eventually(submission_waits_for_the_case, what="the submission to wait for the parking transaction")
        await parking.commit()
        await releasing
    assert not await _parked(runtime, done.event_id)
    found = await _messages(notify.client, event.case_id)
    assert sorted(m["template_code"] for m in found) == ["case_completed_granted", "case_submitted"]


async def test_a_parked_event_does_not_hold_up_its_partition(notify, infra):
    """A completion whose contact has not come blocks nothing behind it, and is never dead-lettered."""
    client, runtime = notify.client, notify.runtime
    orphan = completed(case_id=uuid4())
    dead_before = await _dead_letters(runtime)
    [sent] = await publish(infra.kafka_bootstrap, orphan)
    later = submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, later, completed(case_id=later.case_id), partition=sent.partition)

    assert len(await _settled(client, later.case_id, count=2)) == 2
    assert await _parked(runtime, orphan.event_id)
    assert await _dead_letters(runtime) == dead_before
    # Topics are kept forever: complete the orphan's history so a later replay finds its contact.
    await publish(infra.kafka_bootstrap, submitted(case_id=orphan.case_id, phone=unique_phone()))
    await _settled(client, orphan.case_id, count=2)


async def test_no_sms_about_an_event_older_than_the_limit(notify, infra):
    """A new consumer group replays the topics from the start; past residents are not texted again."""
    client, runtime = notify.client, notify.runtime
    old = submitted(phone=unique_phone()).model_copy(
        update={"occurred_at": runtime.clock.now() - timedelta(hours=49)})
    fresh = submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, old, fresh)
    await _settled(client, fresh.case_id)

    async def contact_kept():
        async with runtime.pool.acquire() as conn:
            return await store.load_contact(conn, old.case_id)
    assert (await eventually(contact_kept, what="the old case's contact")).phone == PHONES[old.case_id]
    assert await _messages(client, old.case_id) == []


async def test_events_wait_for_the_applicants_number_and_go_out_in_order(notify, infra):
    """The number comes on the contact topic, in no order with the case's events."""
    client, runtime = notify.client, notify.runtime
    event = submitted(phone=unique_phone())
    done = completed(case_id=event.case_id)
    await publish(infra.kafka_bootstrap, event, done, contacts=False)
    await eventually(lambda: _parked(runtime, done.event_id), what="the completion to wait for the number")
    assert await _parked(runtime, event.event_id) and await _messages(client, event.case_id) == []

    await publish_contacts(infra.kafka_bootstrap, contact_of(event))
    found = await _settled(client, event.case_id, count=2)
    assert [m["template_code"] for m in found] == ["case_submitted", "case_completed_granted"]
    assert {m["phone"] for m in found} == {mask_phone(PHONES[event.case_id])}


async def _phone_row(runtime, case_id: UUID) -> dict | None:
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT phone, version, erased_at FROM resident_phones WHERE case_id = $1", case_id)
    return dict(row) if row else None


async def test_a_tombstone_erases_the_number_everywhere_and_for_good(notify, infra):
    client, runtime = notify.client, notify.runtime
    phone = unique_phone()
    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event)
    [sent] = await _settled(client, event.case_id)

    await erase(infra.kafka_bootstrap, event.case_id)

    async def erased():
        row = await _phone_row(runtime, event.case_id)
        return row if row and row["erased_at"] else None
    assert (await eventually(erased, what="the number to be erased"))["phone"] is None
    async with runtime.pool.acquire() as conn:
        kept = await conn.fetch("SELECT phone FROM messages WHERE case_id = $1 UNION ALL SELECT l.phone FROM dev_sms_log l"
                                " JOIN messages m USING (message_id) WHERE m.case_id = $1", event.case_id)
    assert [r["phone"] for r in kept] == [mask_phone(phone)] * 2  # the record of what was sent, masked
    # An older record replayed, or a newer one, never brings the number back; the result goes to nobody.
    await publish_contacts(infra.kafka_bootstrap, contact_of(event), contact_of(event, version=2))
    late = completed(case_id=event.case_id)
    await publish(infra.kafka_bootstrap, late)
    marker = submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, marker)  # same consumers, after ours: once it is sent, ours were applied
    await _settled(client, marker.case_id)
    await eventually(lambda: _applied(runtime, late.event_id), what="the late completion to be applied")
    assert (await _phone_row(runtime, event.case_id))["phone"] is None
    assert [m["id"] for m in await _messages(client, event.case_id)] == [sent["id"]]


async def _applied(runtime, event_id: UUID) -> bool:
    async with runtime.pool.acquire() as conn:
        return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM processed_events WHERE event_id = $1)", event_id)


async def test_an_unreadable_contact_is_dead_lettered_without_its_value_on_the_dlq(notify, infra):
    runtime = notify.runtime
    case_id = uuid4()
    CASES.add(str(case_id))
    dead_before = await _dead_letters(runtime)
    [bad] = await publish_records(infra.kafka_bootstrap, INTAKE_CONTACTS,
                                  [(str(case_id).encode(), b'{"applicant_phone": "+8613800138000"}')])
    record = await consume_until(infra.kafka_bootstrap, dlq_of(INTAKE_CONTACTS),
                                 lambda r: dict(r.headers).get("dlq_offset") == str(bad.offset).encode()
                                 and r.key == str(case_id).encode())
    assert record.value == b"" and b"13800138000" not in b"".join(v for _, v in record.headers)
    async with runtime.pool.acquire() as conn:
        kept = await conn.fetchval("SELECT message_value FROM dead_letters WHERE topic = $1 AND message_key = $2",
                                   INTAKE_CONTACTS, str(case_id).encode())
    assert b"13800138000" in kept and await _dead_letters(runtime) == dead_before + 1


async def test_other_township_is_refused(notify, infra):
    client = notify.client
    event = submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, event)
    await _settled(client, event.case_id)
    other = await client.get("/api/v1/messages", params={"case_id": str(event.case_id)},
                             headers=auth_header("staff", "baishi"))
    assert other.status_code == 403 and other.json()["code"] == "TOWNSHIP_FORBIDDEN" and "其他乡镇" in other.json()["message"]
    assert len(await _messages(client, event.case_id, headers=auth_header("inspector", None))) == 1


async def test_provider_failing_twice_then_succeeding_ends_sent(notify, infra):
    client, runtime, scripted = notify.client, notify.runtime, notify.provider
    phone = unique_phone()
    scripted.fail(phone, times=2)
    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event)

    [message] = await _settled(client, event.case_id)
    assert message["attempts"] == 3 and scripted.calls[UUID(message["id"])] == 3
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM dev_sms_log WHERE message_id = $1", UUID(message["id"])) == 1
        assert await conn.fetchval("SELECT last_error FROM messages WHERE message_id = $1", UUID(message["id"])) is None
    assert await _notification_events(runtime, event.case_id) == 1


async def test_provider_failing_for_good_gives_up_and_the_sender_goes_on(notify, infra):
    client, runtime, scripted = notify.client, notify.runtime, notify.provider
    phone = unique_phone()
    scripted.fail(phone, times=None)
    doomed, fine = submitted(phone=phone), submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, doomed)

    [message] = await _settled(client, doomed.case_id, status="failed")
    assert message["attempts"] == MAX_SEND_ATTEMPTS and message["sent_at"] is None
    async with runtime.pool.acquire() as conn:
        error = await conn.fetchval("SELECT last_error FROM messages WHERE message_id = $1", UUID(message["id"]))
        assert "ProviderDown" in error
        assert await conn.fetchval("SELECT count(*) FROM dev_sms_log WHERE message_id = $1", UUID(message["id"])) == 0
    assert await _notification_events(runtime, doomed.case_id) == 0
    await publish(infra.kafka_bootstrap, fine)
    await _settled(client, fine.case_id)


async def test_concurrent_senders_never_send_a_message_twice(notify, monkeypatch):
    client, runtime = notify.client, notify.runtime
    # Due only tomorrow, and the app's own sender idle meanwhile (it would take a message due further ahead than
    # any rule holds as one held before a clock moved back): the two senders of this test have them to themselves.
    send_due = sender.send_due

    async def idle(*args, **kwargs) -> int:
        return 0

    monkeypatch.setattr(sender, "send_due", idle)
    tomorrow = FixedClock(runtime.clock.now() + timedelta(days=1))
    events = [submitted(phone=unique_phone()) for _ in range(6)]
    async with runtime.pool.acquire() as conn, conn.transaction():
        for event in events:
            await commands.on_contact(conn, event.case_id, contact_of(event), now=tomorrow.now(), max_age=MAX_AGE)
            await commands.on_case_submitted(conn, event, now=tomorrow.now(), max_age=MAX_AGE)
    provider = ScriptedProvider(DevSmsProvider(runtime.pool), delay=0.05)
    while sum(await asyncio.gather(*(send_due(runtime.pool, tomorrow, provider=provider, policy=SendPolicy(),
                                              rules=sender.rules_of(runtime.settings),
                                              batch=4, timeout=5) for _ in range(2)))):
        pass  # rounds of two concurrent senders until nothing is due

    for event in events:
        [message] = await _messages(client, event.case_id)
        assert message["status"] == "sent" and provider.calls[UUID(message["id"])] == 1
        assert await _notification_events(runtime, event.case_id) == 1


async def test_health_readiness_and_documents(notify):
    client = notify.client
    ready = await eventually(lambda: _ready(client), what="readiness")
    assert ready["checks"] == {"database": True, "kafka": True, "relay": "active"}
    assert "/api/v1/messages" in (await client.get("/openapi.json")).json()["paths"]
    document = json.dumps((await client.get("/asyncapi")).json())
    for topic in (NotificationSent.TOPIC, CaseSubmitted.TOPIC, CaseCompleted.TOPIC):
        assert topic in document
    for message in ("NotificationSent", "CaseSubmitted", "CaseCompleted", "DeadlineBreached"):
        assert message in document


async def _ready(client):
    resp = await client.get("/readyz")  # ready as soon as the database answers; wait for the relay's lock too
    return resp.json() if resp.status_code == 200 and resp.json()["checks"]["relay"] == "active" else None


async def _true(value: bool) -> bool:
    return value
