"""Consultations, complaints and referrals at intake, on real PostgreSQL and Kafka: endpoints, events,
the complainant's contact, routing's answer followed from Kafka, and bad input writing nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest

from contracts.contacts import CaseContact
from contracts.envelope import Actor, new_event_id
from contracts.events import (
    CaseReferred,
    ComplaintAnswered,
    ComplaintAnsweredPayload,
    ComplaintRegistered,
    ConsultationLogged,
)
from contracts.topics import INTAKE_CONTACTS
from contracts.workdays import SHANGHAI, default_calendar
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.kit.testing import auth_header, consume_until, eventually, publish_events, running_app, start_group_at_end

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="qs-general_window-01")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")
INSPECTOR = auth_header("inspector", None, sub="inspector-01")
ANSWER_DAYS = 7


@pytest.fixture(scope="module")
async def intake(infra, make_database):
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(DATABASE_URL=await make_database("it_matters"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                              BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, complaint_answer_days=ANSWER_DAYS)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


async def _count(runtime, sql: str, *args) -> int:
    async with runtime.pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


def complaint_body(**overrides) -> dict:
    body = {"township_id": "qingshui", "kind": "complaint", "subject": "窗口工作人员不在岗",
            "content": "上午十点到医保窗口无人办理\n等了四十分钟", "department_code": "medical_insurance",
            "about_staff_id": "qs-medical_insurance-01", "complainant_name": "李四", "complainant_phone": "139 0013 9000"}
    return body | overrides


async def test_a_consultation_is_logged_published_and_counted_per_department_and_day(intake, infra):
    client, runtime = intake
    asked = {"township_id": "qingshui", "question": "新农合今年交多少钱？", "answer": "2026年度个人缴费标准为每人400元",
             "item_code": "YB-001", "channel": "phone"}
    first = await client.post("/api/v1/consultations", json=asked, headers=STAFF)
    assert first.status_code == 201, first.text
    assert first.json()["department_code"] == "medical_insurance"  # the item's, none being named
    await client.post("/api/v1/consultations", json=asked, headers=STAFF)
    other = {"township_id": "qingshui", "question": "调解纠纷找谁？", "answer": "请到司法所", "department_code": "judicial"}
    assert (await client.post("/api/v1/consultations", json=other, headers=HEAD)).status_code == 201

    consultation_id = first.json()["consultation_id"]
    record = await consume_until(infra.kafka_bootstrap, ConsultationLogged.TOPIC, lambda r: r.key == consultation_id.encode())
    body = json.loads(record.value)
    assert body["event_type"] == "ConsultationLogged" and body["case_id"] == consultation_id
    assert body["payload"]["first_contact_staff_id"] == "qs-general_window-01" and body["payload"]["channel"] == "phone"

    today = runtime.clock.now().astimezone(SHANGHAI).date().isoformat()
    report = await client.get("/api/v1/consultations", headers=HEAD, params={"from": today, "to": today})
    assert report.status_code == 200, report.text
    data = report.json()
    assert (data["from"], data["to"], data["total"]) == (today, today, 3)
    assert {(c["department_code"], c["count"]) for c in data["counts"]} == {("medical_insurance", 2), ("judicial", 1)}
    assert data["recent"][0]["question"] == "调解纠纷找谁？"  # newest first
    county = await client.get("/api/v1/consultations", headers=INSPECTOR, params={"township_id": "qingshui"})
    assert county.json()["total"] == 3
    assert (await client.get("/api/v1/consultations", headers=INSPECTOR)).json()["code"] == "TOWNSHIP_REQUIRED"
    unknown = await client.get("/api/v1/consultations", headers=INSPECTOR, params={"township_id": "nowhere"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "TOWNSHIP_NOT_FOUND")
    assert (await client.get("/api/v1/consultations", headers=STAFF)).json()["code"] == "ROLE_FORBIDDEN"
    elsewhere = await client.get("/api/v1/consultations", headers=auth_header("centre_head", "hexi"),
                                 params={"township_id": "qingshui"})
    assert elsewhere.json()["code"] == "TOWNSHIP_FORBIDDEN"
    backwards = await client.get("/api/v1/consultations", headers=HEAD, params={"from": "2026-11-24", "to": "2026-11-23"})
    assert (backwards.status_code, backwards.json()["code"]) == (422, "REPORT_PERIOD_INVALID")


async def test_a_complaint_is_numbered_due_in_working_days_and_its_phone_goes_to_the_contact_topic(intake, infra):
    client, runtime = intake
    resp = await client.post("/api/v1/complaints", json=complaint_body(), headers=STAFF)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    complaint_id = created["complaint_id"]
    view = (await client.get(f"/api/v1/complaints/{complaint_id}", headers=STAFF)).json()
    registered_at = datetime.fromisoformat(view["registered_at"])
    day = registered_at.astimezone(SHANGHAI).date()
    assert created["complaint_no"].startswith(f"QS-T-{day:%Y%m%d}-")
    assert datetime.fromisoformat(created["answer_due"]) == default_calendar().deadline_for(registered_at, ANSWER_DAYS)
    assert (view["status"], view["overdue"], view["complainant_name"]) == ("open", False, "李四")

    record = await consume_until(infra.kafka_bootstrap, ComplaintRegistered.TOPIC, lambda r: r.key == complaint_id.encode())
    assert dict(record.headers)["event_type"] == b"ComplaintRegistered"
    assert "13900139000" not in record.value.decode()  # the number travels on the contact topic alone
    payload = json.loads(record.value)["payload"]
    assert payload["about_staff_id"] == "qs-medical_insurance-01" and payload["complaint_no"] == created["complaint_no"]
    contact = await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS, lambda r: r.key == complaint_id.encode())
    assert CaseContact.model_validate_json(contact.value).applicant_phone == "+8613900139000"

    report = await client.post("/api/v1/complaints", json=complaint_body(kind="report", complainant_phone=None),
                               headers=STAFF)
    number = int(created["complaint_no"].rsplit("-", 1)[1])
    assert report.json()["complaint_no"] == f"QS-J-{day:%Y%m%d}-{number + 1:04d}"  # one sequence per township and day
    assert await _count(runtime, "SELECT count(*) FROM case_contacts WHERE case_id = $1",
                        UUID(report.json()["complaint_id"])) == 0


async def test_the_complainants_number_is_erasable_like_an_applicants(intake, infra):
    client, runtime = intake
    complaint_id = (await client.post("/api/v1/complaints", json=complaint_body(), headers=STAFF)).json()["complaint_id"]
    await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS, lambda r: r.key == complaint_id.encode())
    url, reason = f"/api/v1/complaints/{complaint_id}/contact-erasure", {"reason": "投诉人要求删除联系方式"}
    assert (await client.post(url, json=reason, headers=STAFF)).json()["code"] == "ROLE_FORBIDDEN"
    assert (await client.post(url, json=reason, headers=auth_header("centre_head", "hexi"))).json()["code"] == \
        "TOWNSHIP_FORBIDDEN"
    erased = await client.post(url, json=reason, headers=HEAD)
    assert erased.status_code == 200, erased.text
    await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS,
                        lambda r: r.key == complaint_id.encode() and r.value is None)  # the tombstone
    history = await consume_until(infra.kafka_bootstrap, ComplaintRegistered.TOPIC,
                                  lambda r: r.key == complaint_id.encode() and dict(r.headers)["event_type"] == b"ContactErased")
    assert json.loads(history.value)["stream_version"] == 2
    assert await _count(runtime, "SELECT count(*) FROM case_contacts WHERE case_id = $1 AND phone IS NULL",
                        UUID(complaint_id)) == 1
    assert (await client.post(url, json=reason, headers=HEAD)).json()["code"] == "CONTACT_ALREADY_ERASED"
    no_phone = (await client.post("/api/v1/complaints", json=complaint_body(complainant_phone=None),
                                  headers=STAFF)).json()["complaint_id"]
    none = await client.post(f"/api/v1/complaints/{no_phone}/contact-erasure", json=reason, headers=HEAD)
    assert (none.status_code, none.json()["code"]) == (409, "COMPLAINANT_CONTACT_NONE")
    unknown = await client.post(f"/api/v1/complaints/{uuid4()}/contact-erasure", json=reason, headers=HEAD)
    assert unknown.json()["code"] == "COMPLAINT_NOT_FOUND"


async def test_a_contact_needs_a_case_or_a_complaint_to_belong_to(intake):
    _, runtime = intake
    async with runtime.pool.acquire() as conn:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("INSERT INTO case_contacts (case_id, township_id, phone, version, recorded_at)"
                               " VALUES ($1, 'qingshui', '+8613900139000', 1, now())", uuid4())


async def test_an_anonymous_complaint_keeps_no_name(intake, infra):
    client, runtime = intake
    resp = await client.post("/api/v1/complaints", json=complaint_body(anonymous=True, complainant_phone=None),
                             headers=STAFF)
    complaint_id = resp.json()["complaint_id"]
    record = await consume_until(infra.kafka_bootstrap, ComplaintRegistered.TOPIC, lambda r: r.key == complaint_id.encode())
    assert "李四" not in record.value.decode()
    assert (await client.get(f"/api/v1/complaints/{complaint_id}", headers=HEAD)).json()["complainant_name"] is None


async def test_intake_follows_routings_answer_from_kafka(intake, infra):
    client, runtime = intake
    created = (await client.post("/api/v1/complaints", json=complaint_body(), headers=STAFF)).json()
    complaint_id = UUID(created["complaint_id"])
    answered = ComplaintAnswered(
        event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="routing",
        case_id=complaint_id, stream_version=1, township_id="qingshui", actor=Actor(kind="centre_head", id="qs-head"),
        correlation_id=complaint_id,
        payload=ComplaintAnsweredPayload(answer="经核实已整改", upheld=True, answered_by="qs-head", on_time=True))
    await publish_events(infra.kafka_bootstrap, answered, answered)  # a duplicate delivery must be a no-op

    async def answered_view():
        view = (await client.get(f"/api/v1/complaints/{complaint_id}", headers=STAFF)).json()
        return view if view["status"] == "answered" else None

    view = await eventually(answered_view, what="intake to apply ComplaintAnswered")
    assert (view["upheld"], view["on_time"], view["overdue"]) == (True, True, False)
    assert await _count(runtime, "SELECT count(*) FROM processed_events WHERE event_id = $1", answered.event_id) == 1


async def test_only_the_townships_staff_and_county_readers_see_a_complaint(intake):
    client, _ = intake
    complaint_id = (await client.post("/api/v1/complaints", json=complaint_body(), headers=STAFF)).json()["complaint_id"]
    url = f"/api/v1/complaints/{complaint_id}"
    assert (await client.get(url, headers=INSPECTOR)).json()["complainant_name"] == "李四"
    accused = auth_header("staff", "qingshui", sub="qs-medical_insurance-01")
    assert (await client.get(url, headers=accused)).json()["complainant_name"] is None  # no retaliation
    assert (await client.get(url, headers=auth_header("staff", "hexi"))).json()["code"] == "TOWNSHIP_FORBIDDEN"
    assert (await client.get(url, headers=auth_header("village_agent", "qingshui"))).json()["code"] == "ROLE_FORBIDDEN"
    assert (await client.get(f"/api/v1/complaints/{uuid4()}", headers=STAFF)).json()["code"] == "COMPLAINT_NOT_FOUND"


async def test_a_referral_tells_the_resident_where_to_go(intake, infra):
    client, _ = intake
    body = {"township_id": "qingshui", "matter": "办理不动产登记", "referred_to": "县政务服务中心不动产登记窗口",
            "address": "县城人民路8号", "office_hours": "工作日 9:00-17:00", "note": "请携带身份证和房产证明"}
    resp = await client.post("/api/v1/referrals", json=body, headers=STAFF)
    assert resp.status_code == 201, resp.text
    referral = resp.json()
    assert referral["item_not_offered_here"] is False
    assert referral["guidance"] == ("请前往县政务服务中心不动产登记窗口办理（地址：县城人民路8号；办公时间：工作日 9:00-17:00）。"
                                    "请携带身份证和房产证明")
    record = await consume_until(infra.kafka_bootstrap, CaseReferred.TOPIC,
                                 lambda r: r.key == referral["referral_id"].encode())
    payload = json.loads(record.value)["payload"]
    assert (payload["matter"], payload["first_contact_staff_id"]) == ("办理不动产登记", "qs-general_window-01")


BAD_INPUT = [
    ("/api/v1/referrals", {"township_id": "qingshui", "matter": "养老保险待遇申领", "item_code": "SB-002",
                           "referred_to": "县社保局"}, 422, "ITEM_OFFERED_HERE"),
    ("/api/v1/referrals", {"township_id": "qingshui", "matter": "x", "item_code": "NO-SUCH", "referred_to": "县里"},
     404, "ITEM_NOT_FOUND"),
    ("/api/v1/referrals", {"township_id": "qingshui", "matter": "x" * 201, "referred_to": "县里"}, 422, "VALIDATION_FAILED"),
    ("/api/v1/consultations", {"township_id": "qingshui", "question": "q", "answer": "答" * 1001}, 422, "VALIDATION_FAILED"),
    ("/api/v1/consultations", {"township_id": "qingshui", "question": "q", "answer": "a", "item_code": "NO-SUCH"},
     404, "ITEM_NOT_FOUND"),
    ("/api/v1/consultations", {"township_id": "qingshui", "question": "q", "answer": "a", "department_code": "mint"},
     422, "DEPARTMENT_UNKNOWN"),
    ("/api/v1/consultations", {"township_id": "qingshui", "question": "问\x00题", "answer": "a"},
     422, "TEXT_UNSAFE_CHARACTER"),
    ("/api/v1/consultations", {"township_id": "qingshui", "question": "问\u202e题", "answer": "a"},
     422, "TEXT_UNSAFE_CHARACTER"),
    ("/api/v1/consultations", {"township_id": "qingshui", "question": "", "answer": "a"}, 422, "VALIDATION_FAILED"),
    ("/api/v1/complaints", complaint_body(department_code="mint"), 422, "DEPARTMENT_UNKNOWN"),
    ("/api/v1/complaints", complaint_body(complainant_name=None), 422, "COMPLAINANT_NAME_REQUIRED"),
    ("/api/v1/complaints", complaint_body(about_case_id=str(uuid4())), 422, "CONCERNED_CASE_NOT_FOUND"),
    ("/api/v1/complaints", complaint_body(content="长" * 2001), 422, "VALIDATION_FAILED"),
    ("/api/v1/complaints", complaint_body(subject="主题\n换行"), 422, "TEXT_UNSAFE_CHARACTER"),
    ("/api/v1/complaints", complaint_body(complainant_phone="１３９００１３９０００"), 422, "PHONE_INVALID"),
    ("/api/v1/complaints", complaint_body(about_staff_id="qs head;"), 422, "CODE_INVALID"),
    ("/api/v1/complaints", complaint_body(township_id="nowhere"), 403, "TOWNSHIP_FORBIDDEN"),
]


@pytest.mark.parametrize(("path", "body", "status", "code"), BAD_INPUT)
async def test_bad_input_is_refused_and_writes_nothing(intake, path, body, status, code):
    client, runtime = intake
    before = [await _count(runtime, f"SELECT count(*) FROM {t}")
              for t in ("events", "consultations", "complaints", "complaint_counters", "case_contacts")]
    resp = await client.post(path, json=body, headers=STAFF)
    assert (resp.status_code, resp.json()["code"]) == (status, code), resp.text
    assert resp.json()["message"]  # Chinese words for the person at the window
    after = [await _count(runtime, f"SELECT count(*) FROM {t}")
             for t in ("events", "consultations", "complaints", "complaint_counters", "case_contacts")]
    assert after == before


async def test_an_unknown_township_is_refused_to_county_wide_callers_too(intake):
    client, runtime = intake
    before = await _count(runtime, "SELECT count(*) FROM events")
    # An admin may not take matters in at all; a head of an unknown township is refused by the lookup.
    head = auth_header("centre_head", "nowhere")
    resp = await client.post("/api/v1/complaints", json=complaint_body(township_id="nowhere"), headers=head)
    assert (resp.status_code, resp.json()["code"]) == (404, "TOWNSHIP_NOT_FOUND")
    assert await _count(runtime, "SELECT count(*) FROM events") == before


async def test_a_complaint_about_a_case_of_the_township_names_it(intake):
    client, _ = intake
    case_id = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()["case_id"]
    resp = await client.post("/api/v1/complaints", json=complaint_body(about_case_id=case_id), headers=STAFF)
    assert resp.status_code == 201, resp.text
    view = (await client.get(f"/api/v1/complaints/{resp.json()['complaint_id']}", headers=STAFF)).json()
    assert view["about_case_id"] == case_id
    elsewhere = auth_header("staff", "hexi")
    refused = await client.post("/api/v1/complaints", json=complaint_body(township_id="hexi", about_case_id=case_id),
                                headers=elsewhere)
    assert refused.json()["code"] == "CONCERNED_CASE_NOT_FOUND"


async def test_the_report_default_is_today(intake):
    client, runtime = intake
    data = (await client.get("/api/v1/consultations", headers=HEAD)).json()
    today = runtime.clock.now().astimezone(SHANGHAI).date()
    assert date.fromisoformat(data["from"]) == date.fromisoformat(data["to"]) == today
