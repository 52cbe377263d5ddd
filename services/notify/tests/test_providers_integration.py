"""Real providers' adapters against the signing stand-in, on real PostgreSQL and Kafka: failover on an outage,
a bad number failed without retry, a timed-out send found by its id instead of resent, receipts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID, uuid4

import httpx
import pytest

from services.kit.service import Runtime
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end
from services.notify.app import create_app
from services.notify.providers.config import ProviderSettings
from services.notify.settings import NotifySettings
from services.notify.tests import sms_standin
from services.notify.tests.builders import submitted, unique_phone
from services.notify.tests.probes import publish, skip_other_suites_cases
from services.notify.tests.rules_off import RULES_OFF
from services.notify.tests.sms_standin import SmsStandIn, alibaba_receipt, serving, tencent_receipt
from services.notify.tests.test_notify_integration import GROUP, TOPICS

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui")
RECEIPT_SECRET = "receipts-shared-secret-for-tests"
TEMPLATES = """
alibaba:
  case_submitted: {template: SMS_100001, params: [applicant_name, case_no, deadline]}
tencent:
  case_submitted: {template: "2000001", params: [applicant_name, case_no, deadline]}
"""


@dataclass
class Notify:
    client: httpx.AsyncClient
    runtime: Runtime
    standin: SmsStandIn


@pytest.fixture(scope="module")
async def notify(infra, make_database, tmp_path_factory):
    templates = tmp_path_factory.mktemp("sms") / "templates.yaml"
    templates.write_text(TEMPLATES, encoding="utf-8")
    standin = SmsStandIn()
    async with serving(standin) as base:
        suffix = f"-prov-{uuid4().hex[:8]}"
        settings = NotifySettings(
            DATABASE_URL=await make_database("it_notify_providers"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
            BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, send_interval=0.1, send_backoff_first=0.2, send_max_attempts=6,
            send_timeout=5.0, sms_provider="alibaba", sms_secondary="tencent", **RULES_OFF,
            providers=ProviderSettings(
                alibaba_endpoint=f"{base}/alibaba", alibaba_access_key_id=sms_standin.ALIBABA_KEY_ID,
                alibaba_access_key_secret=sms_standin.ALIBABA_SECRET, alibaba_sign_name="清水镇便民服务中心",
                tencent_endpoint=f"{base}/tencent", tencent_secret_id=sms_standin.TENCENT_SECRET_ID,
                tencent_secret_key=sms_standin.TENCENT_SECRET_KEY, tencent_sdk_app_id="1400000001",
                tencent_sign_name="清水镇便民服务中心", sms_templates_file=templates,
                sms_receipt_secret=RECEIPT_SECRET, sms_http_timeout=2.0, sms_unknown_settle_seconds=0),
        )
        await start_group_at_end(infra.kafka_bootstrap, f"{GROUP}{suffix}", TOPICS)
        app = create_app(settings)
        skip_other_suites_cases(app.state.runtime.inbox)
        async with running_app(app) as client:
            yield Notify(client, app.state.runtime, standin)


async def _message(notify: Notify, case_id: UUID, status: str) -> dict:
    async def probe():
        resp = await notify.client.get("/api/v1/messages", params={"case_id": str(case_id)}, headers=STAFF)
        found = resp.json()
        return found[0] if len(found) == 1 and found[0]["status"] == status else None
    return await eventually(probe, what=f"a {status} message of case {case_id}")


async def _row(notify: Notify, message_id: str) -> dict:
    async with notify.runtime.pool.acquire() as conn:
        return dict(await conn.fetchrow("SELECT * FROM messages WHERE message_id = $1", UUID(message_id)))


async def _events(notify: Notify, case_id: UUID, event_type: str) -> list[dict]:
    async with notify.runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT body FROM events WHERE case_id = $1 AND event_type = $2", case_id, event_type)
    return [json.loads(r["body"])["payload"] for r in rows]


async def test_a_message_goes_out_through_the_primary_with_its_template_and_our_id(notify, infra):
    event = submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, event)
    message = await _message(notify, event.case_id, "sent")
    [taken] = notify.standin.sent_to("alibaba", UUID(message["id"]))
    assert taken.template == "SMS_100001" and taken.params["case_no"] == event.payload.case_no
    assert taken.params["applicant_name"] == event.payload.applicant_name and "年" in taken.params["deadline"]
    row = await _row(notify, message["id"])
    assert (row["provider"], row["provider_message_id"]) == ("alibaba", taken.provider_id)
    assert notify.standin.bad_signatures == 0


async def test_a_provider_outage_fails_over_to_the_secondary(notify, infra):
    notify.standin.down.add("alibaba")
    try:
        event = submitted(phone=unique_phone())
        await publish(infra.kafka_bootstrap, event)
        message = await _message(notify, event.case_id, "sent")
    finally:
        notify.standin.down.discard("alibaba")
    assert notify.standin.sent_to("alibaba", UUID(message["id"])) == []
    [taken] = notify.standin.sent_to("tencent", UUID(message["id"]))
    assert taken.template == "2000001" and taken.params[1] == event.payload.case_no
    assert (await _row(notify, message["id"]))["provider"] == "tencent"
    [sent] = await _events(notify, event.case_id, "NotificationSent")
    assert sent["provider"] == "tencent" and sent["provider_message_id"] == taken.provider_id

    # Tencent's status callback, by its SerialNo and our SessionContext: the carrier could not deliver.
    resp = await notify.client.post("/api/v1/sms/receipts/tencent", json=[tencent_receipt(taken, delivered=False,
                                                                                          code="MN:0001")],
                                    headers={"X-Receipt-Token": RECEIPT_SECRET})
    assert resp.status_code == 200 and resp.json()["result"] == 0
    await _message(notify, event.case_id, "failed")
    [failed] = await _events(notify, event.case_id, "NotificationFailed")
    assert (failed["provider"], failed["failure"], failed["provider_code"]) == ("tencent", "permanent", "MN:0001")


async def test_a_bad_number_is_failed_at_once_and_not_retried(notify, infra):
    phone = unique_phone()
    notify.standin.refusals[phone.removeprefix("+86")] = "isv.MOBILE_NUMBER_ILLEGAL"
    calls_before = notify.standin.calls["alibaba", "SendSms"]
    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event)
    message = await _message(notify, event.case_id, "failed")
    row = await _row(notify, message["id"])
    assert (row["attempts"], row["failure_kind"], row["provider_code"]) == (1, "permanent", "isv.MOBILE_NUMBER_ILLEGAL")
    assert (message["failure_kind"], message["provider_code"]) == ("permanent", "isv.MOBILE_NUMBER_ILLEGAL")  # served
    assert notify.standin.calls["alibaba", "SendSms"] == calls_before + 1
    assert notify.standin.sent_to("tencent", UUID(message["id"])) == []  # a bad number is not the provider's fault
    [failed] = await _events(notify, event.case_id, "NotificationFailed")
    assert failed["failure"] == "permanent" and failed["provider_code"] == "isv.MOBILE_NUMBER_ILLEGAL"
    assert phone[3:] not in str(failed)


async def test_a_frequency_refusal_is_retried_at_the_same_provider(notify, infra):
    phone = unique_phone()
    notify.standin.refusals[phone.removeprefix("+86")] = "isv.BUSINESS_LIMIT_CONTROL"
    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event)

    async def refused_twice():
        async with notify.runtime.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT status, attempts, failure_kind FROM messages WHERE case_id = $1",
                                      event.case_id)
        return row if row and row["attempts"] >= 2 else None
    row = await eventually(refused_twice, what="two refused attempts")
    assert (row["status"], row["failure_kind"]) == ("queued", "temporary")
    del notify.standin.refusals[phone.removeprefix("+86")]  # the hour's limit is over
    message = await _message(notify, event.case_id, "sent")
    row = await _row(notify, message["id"])
    assert row["provider"] == "alibaba" and row["failure_kind"] is None and row["last_error"] is None
    assert notify.standin.sent_to("tencent", UUID(message["id"])) == []  # the other carrier would refuse alike


async def test_a_send_that_timed_out_is_found_by_its_id_and_never_sent_twice(notify, infra):
    phone = unique_phone()
    notify.standin.slow[phone.removeprefix("+86")] = 5.0  # taken, but the answer comes after our 2 s
    event = submitted(phone=phone)
    await publish(infra.kafka_bootstrap, event)
    message = await _message(notify, event.case_id, "sent")
    assert len(notify.standin.sent_to("alibaba", UUID(message["id"]))) == 1
    assert notify.standin.sent_to("tencent", UUID(message["id"])) == []
    row = await _row(notify, message["id"])
    # The first attempt timed out; the second asked Alibaba by our OutId, found it, and did not send again.
    assert row["attempts"] == 2 and row["unconfirmed_provider"] is None and row["provider"] == "alibaba"
    assert notify.standin.calls["alibaba", "QuerySendDetails"] >= 1
    assert len(await _events(notify, event.case_id, "NotificationSent")) == 1


async def test_a_receipt_marks_the_message_delivered_and_is_announced(notify, infra):
    event = submitted(phone=unique_phone())
    await publish(infra.kafka_bootstrap, event)
    message = await _message(notify, event.case_id, "sent")
    [taken] = notify.standin.sent_to("alibaba", UUID(message["id"]))
    url = "/api/v1/sms/receipts/alibaba"

    refused = await notify.client.post(url, json=[alibaba_receipt(taken)], headers={"X-Receipt-Token": "wrong"})
    assert refused.status_code == 401 and refused.json()["code"] == "RECEIPT_UNAUTHENTICATED"
    assert "凭据" in refused.json()["message"]
    resp = await notify.client.post(url, params={"token": RECEIPT_SECRET}, json=[alibaba_receipt(taken)])
    assert resp.status_code == 200 and resp.json()["code"] == 0 and resp.json()["applied"] == 1
    await _message(notify, event.case_id, "delivered")
    [delivered] = await _events(notify, event.case_id, "NotificationDelivered")
    assert delivered["message_id"] == message["id"] and delivered["provider_code"] == "DELIVERED"

    again = await notify.client.post(url, json=[alibaba_receipt(taken)], headers={"X-Receipt-Token": RECEIPT_SECRET})
    assert again.status_code == 202 and again.json()["ignored"] == ["already reported"]
    assert len(await _events(notify, event.case_id, "NotificationDelivered")) == 1


async def test_a_receipt_for_an_unknown_message_is_ignored_not_an_error(notify):
    stranger = sms_standin.Taken("alibaba", str(uuid4()), "1^0", "13800000000", "SMS_1", {})
    resp = await notify.client.post("/api/v1/sms/receipts/alibaba", json=[alibaba_receipt(stranger), {"x": 1}],
                                    headers={"X-Receipt-Token": RECEIPT_SECRET})
    assert resp.status_code == 202 and resp.json()["ignored"] == ["unknown message", "names no message"]
    bad = await notify.client.post("/api/v1/sms/receipts/other", json=[], headers={"X-Receipt-Token": RECEIPT_SECRET})
    assert bad.status_code == 422
