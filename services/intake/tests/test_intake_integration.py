"""Intake against real PostgreSQL and Kafka: endpoints, outbox relay, subscribers, dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from contracts.contacts import CaseContact
from contracts.envelope import Actor, new_event_id
from contracts.events import CaseCompleted, CaseCompletedPayload, CaseSubmitted
from contracts.topics import INTAKE_CONTACTS
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.kit.testing import auth_header, consume_until, eventually, publish_events, running_app, start_group_at_end

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui")
HEAD = auth_header("centre_head", "qingshui")
PAD = auth_header("window_pad", "qingshui", sub="pad-qs-3")


@pytest.fixture(scope="module")
async def intake(infra, make_database):
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(DATABASE_URL=await make_database("it_intake"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                              BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


async def test_submit_publishes_case_submitted_without_id_number(intake, infra):
    client, _ = intake
    resp = await client.post("/api/v1/cases", json=case_body(), headers=STAFF)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["case_no"].startswith("QS-") and created["status"] == "submitted"
    assert created["materials_tolerated_missing"] == ["photo"]
    record = await consume_until(infra.kafka_bootstrap, CaseSubmitted.TOPIC,
                                  lambda r: r.key == created["case_id"].encode())
    headers = dict(record.headers)
    assert headers["event_type"] == b"CaseSubmitted" and headers["traceparent"].startswith(b"00-")
    body = json.loads(record.value)
    assert body["stream_version"] == 1 and "11010519491231002X" not in record.value.decode()
    assert body["payload"]["applicant_id_masked"] == "1101**********002X"
    assert "13800138000" not in record.value.decode()  # the number goes on the contact topic alone
    contact = await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS, lambda r: r.key == created["case_id"].encode())
    assert CaseContact.model_validate_json(contact.value).applicant_phone == "+8613800138000"


async def test_erasing_a_contact_leaves_a_tombstone_and_a_history_entry(intake, infra):
    client, runtime = intake
    case_id = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()["case_id"]
    # Published before the erasure (else only the erased state, the tombstone, would ever go out).
    number = await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS, lambda r: r.key == case_id.encode())
    url, reason = f"/api/v1/cases/{case_id}/contact-erasure", {"reason": "申请人要求删除联系方式"}
    assert (await client.post(url, json=reason, headers=STAFF)).status_code == 403  # window staff may not
    other_head = auth_header("centre_head", "hexi")
    assert (await client.post(url, json=reason, headers=other_head)).json()["code"] == "TOWNSHIP_FORBIDDEN"
    assert (await client.post(url, json={"reason": " "}, headers=HEAD)).status_code == 422
    unknown = await client.post(f"/api/v1/cases/{uuid4()}/contact-erasure", json=reason, headers=HEAD)
    assert unknown.json()["code"] == "CASE_NOT_FOUND"

    erased = await client.post(url, json=reason, headers=HEAD)
    assert erased.status_code == 200, erased.text
    again = await client.post(url, json=reason, headers=HEAD)
    assert (again.status_code, again.json()["code"]) == (409, "CONTACT_ALREADY_ERASED")

    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT phone, erased_at FROM case_contacts WHERE case_id = $1", UUID(case_id))
    assert row["phone"] is None and row["erased_at"] is not None
    tombstone = await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS,
                                    lambda r: r.key == case_id.encode() and r.value is None)
    assert number.value is not None and tombstone.offset > number.offset and tombstone.partition == number.partition
    history = await consume_until(infra.kafka_bootstrap, CaseSubmitted.TOPIC,
                                  lambda r: r.key == case_id.encode() and dict(r.headers)["event_type"] == b"ContactErased")
    body = json.loads(history.value)
    # after CaseSubmitted and ToleratedMaterialDue
    assert (body["stream_version"], body["payload"]["reason"], body["actor"]["kind"]) == (3, reason["reason"], "centre_head")


async def test_one_time_notice_and_bad_input(intake):
    client, _ = intake
    resp = await client.post("/api/v1/cases", json=case_body(materials=["id_card"]), headers=STAFF)
    assert resp.status_code == 201 and resp.json()["status"] == "materials_requested"
    assert [m["code"] for m in resp.json()["owed"]] == ["hukou", "bank_card"]
    unknown = await client.post("/api/v1/cases", json=case_body(materials=["passport"]), headers=STAFF)
    assert unknown.status_code == 422 and unknown.json()["code"] == "MATERIAL_UNKNOWN"
    bad_phone = case_body(applicant={"name": "李四", "id_number": "11010519491231002X", "phone": "12345"})
    assert (await client.post("/api/v1/cases", json=bad_phone, headers=STAFF)).json()["code"] == "PHONE_INVALID"
    assert (await client.post("/api/v1/cases", json=case_body(item_code="NOPE"), headers=STAFF)).status_code == 404
    missing = await client.post("/api/v1/cases", json={"item_code": "SB-002"}, headers=STAFF)
    assert missing.status_code == 422 and missing.json()["code"] == "VALIDATION_FAILED"


async def test_other_township_is_refused(intake):
    client, _ = intake
    resp = await client.post("/api/v1/cases", json=case_body(township_id="baishi"), headers=STAFF)
    assert resp.status_code == 403 and resp.json()["code"] == "TOWNSHIP_FORBIDDEN"
    created = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()
    other = await client.get(f"/api/v1/cases/{created['case_id']}", headers=auth_header("staff", "baishi"))
    assert other.status_code == 403 and "其他乡镇" in other.json()["message"]
    assert (await client.get(f"/api/v1/cases/{created['case_id']}", headers=auth_header("inspector", None))).status_code == 200


async def test_rating_follows_completion_event_from_kafka(intake, infra):
    client, runtime = intake
    created = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()
    case_id = created["case_id"]
    early = await client.post(f"/api/v1/cases/{case_id}/rating", json={"score": 5}, headers=PAD)
    assert early.status_code == 409 and early.json()["code"] == "CASE_NOT_COMPLETED"

    completed = CaseCompleted(
        event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="routing",
        case_id=UUID(case_id), stream_version=2, township_id="qingshui", actor=Actor(kind="staff", id="s1"),
        correlation_id=UUID(case_id), payload=CaseCompletedPayload(
            department_code="social_security", result="granted", on_time=True,
            promised_deadline=created["promised_deadline"]),
    )
    await publish_events(infra.kafka_bootstrap, completed, completed)  # a duplicate delivery must be a no-op

    async def completed_status():
        view = (await client.get(f"/api/v1/cases/{case_id}", headers=STAFF)).json()
        return view if view["status"] == "completed" else None

    view = await eventually(completed_status, what="intake to apply CaseCompleted")
    assert view["result"] == "granted"
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM processed_events WHERE event_id = $1", completed.event_id) == 1

    rated = await client.post(f"/api/v1/cases/{case_id}/rating", json={"score": 2, "comment": "等太久"}, headers=PAD)
    assert rated.status_code == 201 and rated.json()["bad_rating"] is True
    again = await client.post(f"/api/v1/cases/{case_id}/rating", json={"score": 5}, headers=PAD)
    assert again.json()["code"] == "CASE_ALREADY_RATED"


async def test_health_readiness_openapi_asyncapi(intake):
    client, _ = intake
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await eventually(lambda: _ready(client), what="readiness")
    assert ready["checks"] == {"database": True, "kafka": True, "relay": "active"}
    assert "/api/v1/cases" in (await client.get("/openapi.json")).json()["paths"]
    doc = (await client.get("/asyncapi")).json()
    assert doc["asyncapi"].startswith("3.")
    assert {c["address"] for c in doc["channels"].values()} == {
        "bianmin.intake.cases.v1", "bianmin.routing.cases.v1", "bianmin.intake.hall.v1"}
    assert {"CaseSubmitted", "CaseRated", "TicketIssued", "ServiceEnded"} <= set(doc["components"]["schemas"])


async def _ready(client):
    resp = await client.get("/readyz")  # ready as soon as the database answers; wait for the relay's lock too
    return resp.json() if resp.status_code == 200 and resp.json()["checks"]["relay"] == "active" else None
