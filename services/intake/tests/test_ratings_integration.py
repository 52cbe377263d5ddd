"""The rating channels and the resident's status page against real PostgreSQL and Kafka."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.contacts import CaseContact
from contracts.envelope import Actor, new_event_id
from contracts.events import CaseAssigned, CaseAssignedPayload, CaseCompleted, CaseCompletedPayload, CaseRated
from contracts.topics import INTAKE_CONTACTS
from services.intake import rating_links, rating_store
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.kit.testing import (
    auth_header,
    client_from,
    consume_until,
    eventually,
    publish_events,
    running_app,
    start_group_at_end,
)

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="qs-social_security-01")
HEAD = auth_header("centre_head", "qingshui", sub="head-qs")
PAD = auth_header("window_pad", "qingshui", sub="pad-qs-window-3")
AGENT = auth_header("village_agent", "qingshui", sub="agent-qs-dongcun")
SECRET = "r" * 40
PHONE, OTHER_PHONE = "13800138000", "13912345678"
PER_ADDRESS, PER_CASE = 6, 5
ADDRESSES = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
async def intake(infra, make_database):
    suffix = f"-rt-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(
        DATABASE_URL=await make_database("it_ratings"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
        BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, rating_link_secret=SECRET,
        status_limit_per_address=PER_ADDRESS, status_limit_per_case=PER_CASE,
        status_limit_window_seconds=3600)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app


def _routing_event(cls, case: dict, version: int, payload):
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="routing",
               case_id=UUID(case["case_id"]), stream_version=version, township_id="qingshui",
               actor=Actor(kind="staff", id="qs-social_security-01"), correlation_id=UUID(case["case_id"]),
               payload=payload)


async def _submitted(client) -> dict:
    resp = await client.post("/api/v1/cases", json=case_body(), headers=STAFF)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _completed(client, infra) -> dict:
    """A case taken in, assigned and completed by routing's events on Kafka, as intake learns them."""
    case = await _submitted(client)
    deadline = case["promised_deadline"]
    await publish_events(infra.kafka_bootstrap, _routing_event(CaseAssigned, case, 1, CaseAssignedPayload(
        department_code="social_security", department_name="社保站", promised_deadline=deadline)),
        _routing_event(CaseCompleted, case, 2, CaseCompletedPayload(
            department_code="social_security", result="granted", on_time=True, promised_deadline=deadline)))

    async def completed():
        view = (await client.get(f"/api/v1/cases/{case['case_id']}", headers=STAFF)).json()
        return view["status"] == "completed"
    await eventually(completed, what="intake to apply CaseCompleted")
    return case


async def _rated_on_kafka(infra, case_id: str) -> dict:
    record = await consume_until(infra.kafka_bootstrap, CaseRated.TOPIC, lambda r: r.key == case_id.encode()
                                 and dict(r.headers)["event_type"] == b"CaseRated")
    return json.loads(record.value)


def _status_path(case: dict, *, rate: bool = False) -> str:
    return f"/api/v1/cases/{case['case_no']}/status" + ("/rating" if rate else "")


async def test_the_window_pad_rates_in_person_and_the_event_names_no_one(intake, infra):
    client, _ = intake
    case = await _completed(client, infra)
    url = f"/api/v1/cases/{case['case_id']}/rating"
    dimensions = {"overall": 4, "efficiency": 5, "competence": 4, "attitude": 3}
    rated = await client.post(url, json={"score": 4, "comment": "窗口很耐心", "dimensions": dimensions}, headers=PAD)
    assert rated.status_code == 201, rated.text
    assert rated.json() | {"case_id": None} == {"case_id": None, "score": 4, "bad_rating": False,
                                                "channel": "window_pad", "message": "感谢您的评价"}
    again = await client.post(url, json={"score": 5}, headers=PAD)
    assert (again.status_code, again.json()["code"]) == (409, "CASE_ALREADY_RATED")

    body = await _rated_on_kafka(infra, case["case_id"])
    assert body["payload"]["channel"] == "window_pad" and body["payload"]["dimensions"] == dimensions
    assert body["actor"] == {"kind": "resident", "id": "anonymous"}
    assert "pad-qs-window-3" not in json.dumps(body)
    view = (await client.get(f"/api/v1/cases/{case['case_id']}", headers=STAFF)).json()
    assert view["rating_score"] == 4


async def test_the_rated_side_cannot_rate_and_the_agent_rates_only_in_their_township(intake, infra):
    client, _ = intake
    case = await _completed(client, infra)
    url = f"/api/v1/cases/{case['case_id']}/rating"
    for headers in (STAFF, HEAD):
        refused = await client.post(url, json={"score": 5}, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "STAFF_CANNOT_RATE")
        assert "无权代群众评价" in refused.json()["message"]
    for role in ("village_agent", "window_pad"):
        elsewhere = await client.post(url, json={"score": 5}, headers=auth_header(role, "baishi"))
        assert elsewhere.json()["code"] == "TOWNSHIP_FORBIDDEN"
    mismatch = await client.post(url, json={"score": 5, "dimensions": {
        "overall": 3, "efficiency": 5, "competence": 5, "attitude": 5}}, headers=AGENT)
    assert (mismatch.status_code, mismatch.json()["code"]) == (422, "RATING_OVERALL_MISMATCH")
    rated = await client.post(url, json={"score": 1, "comment": "群众说排队太久"}, headers=AGENT)
    assert rated.status_code == 201 and rated.json()["channel"] == "village_agent" and rated.json()["bad_rating"]
    body = await _rated_on_kafka(infra, case["case_id"])
    assert body["actor"] == {"kind": "resident", "id": "anonymous"} and body["payload"]["dimensions"] is None
    assert "agent-qs-dongcun" not in json.dumps(body)


async def test_completion_stores_a_link_as_a_hash_that_can_be_made_again_for_the_sms(intake, infra):
    client, app = intake
    case = await _completed(client, infra)
    async with app.state.runtime.pool.acquire() as conn:
        row = await eventually(lambda: conn.fetchrow("SELECT * FROM rating_links WHERE case_id = $1",
                                                     UUID(case["case_id"])), what="the link issued on completion")
    assert row["issued_by"] == "system" and row["sms_sent_at"] is not None and row["used_at"] is None
    assert timedelta(days=6, hours=23) < row["expires_at"] - datetime.now(UTC) <= timedelta(days=7)
    # What the contact relay does: make the token again from the row and the secret; the row alone does not hold it.
    token = rating_links.make_token(SECRET.encode(), rating_links.LinkClaims(row["link_id"], row["expires_at"]))
    assert rating_links.token_hash(token) == row["token_hash"] and token not in json.dumps(dict(row), default=str)
    # It reaches notify on the contact record, the only topic notify alone reads.
    record = await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS, lambda r: r.key == case["case_id"].encode()
                                 and r.value is not None and b"rating_link" in r.value)
    contact = CaseContact.model_validate_json(record.value)
    assert contact.rating_link == rating_links.path_of(token) and contact.rating_link_expires_at == row["expires_at"]
    shown = await client.get(rating_links.path_of(token))
    assert shown.status_code == 200, shown.text

    reissued = await client.post(f"/api/v1/cases/{case['case_id']}/rating-link", headers=STAFF)
    assert reissued.status_code == 201, reissued.text
    old = await client.get(rating_links.path_of(token))
    assert (old.status_code, old.json()["code"]) == (404, "RATING_LINK_INVALID")

    # Rated at the window meanwhile: the link has nothing left to rate.
    assert (await client.post(f"/api/v1/cases/{case['case_id']}/rating", json={"score": 5}, headers=PAD)).status_code == 201
    for call in (client.get(reissued.json()["path"]), client.post(reissued.json()["path"], json={"score": 3})):
        late = await call
        assert (late.status_code, late.json()["code"]) == (409, "CASE_ALREADY_RATED")


async def test_an_sms_link_shows_the_matter_and_rates_once(intake, infra):
    client, _ = intake
    case = await _completed(client, infra)
    issued = (await client.post(f"/api/v1/cases/{case['case_id']}/rating-link", headers=HEAD)).json()
    assert issued["path"] == f"/api/v1/rate/{issued['token']}"

    shown = await client.get(issued["path"])
    assert shown.status_code == 200, shown.text
    page = shown.json()
    assert (page["item_name"], page["centre_name"]) == ("城乡居民养老保险待遇申领", "清水镇便民服务中心")
    assert page["completed_on"] and [level["label"] for level in page["levels"]][0] == "非常满意"
    for personal in ("张三", PHONE, case["case_no"], case["case_id"]):
        assert personal not in shown.text

    with_dimensions = await client.post(issued["path"], json={"score": 5, "dimensions": {
        "overall": 5, "efficiency": 5, "competence": 5, "attitude": 5}})
    assert (with_dimensions.status_code, with_dimensions.json()["code"]) == (422, "RATING_DIMENSIONS_NOT_ALLOWED")
    rated = await client.post(issued["path"], json={"score": 2, "comment": "材料退了两次"})
    assert rated.status_code == 201 and rated.json()["channel"] == "sms_link" and rated.json()["bad_rating"]
    for again in (client.post(issued["path"], json={"score": 5}), client.get(issued["path"])):
        used = await again
        assert (used.status_code, used.json()["code"]) == (410, "RATING_LINK_USED")
        assert "只能评价一次" in used.json()["message"]
    body = await _rated_on_kafka(infra, case["case_id"])
    assert (body["payload"]["channel"], body["payload"]["dimensions"], body["actor"]["kind"]) == (
        "sms_link", None, "resident")


async def test_an_expired_link_and_links_that_never_were(intake, infra):
    client, app = intake
    case = await _completed(client, infra)
    issued_at = datetime.now(UTC) - timedelta(days=8)
    claims = rating_links.new_claims(issued_at, timedelta(days=7))
    token = rating_links.make_token(SECRET.encode(), claims)
    async with app.state.runtime.pool.acquire() as conn:
        await rating_store.save_link(conn, UUID(case["case_id"]), claims, token_hash=rating_links.token_hash(token),
                                     issued_by="qs-social_security-01", at=issued_at, replace=True)
    for call in (client.get(rating_links.path_of(token)), client.post(rating_links.path_of(token), json={"score": 5})):
        expired = await call
        assert (expired.status_code, expired.json()["code"]) == (410, "RATING_LINK_EXPIRED")

    forged = rating_links.make_token(b"x" * 40, rating_links.new_claims(datetime.now(UTC), timedelta(days=7)))
    for path in (f"/api/v1/rate/{forged}", "/api/v1/rate/abc", "/api/v1/rate/%E8%AF%84%E4%BB%B7"):
        invalid = await client.post(path, json={"score": 5})
        assert (invalid.status_code, invalid.json()["code"]) == (404, "RATING_LINK_INVALID"), path

    open_case = await _submitted(client)
    early = await client.post(f"/api/v1/cases/{open_case['case_id']}/rating-link", headers=STAFF)
    assert (early.status_code, early.json()["code"]) == (409, "CASE_NOT_COMPLETED")
    other = await client.post(f"/api/v1/cases/{case['case_id']}/rating-link", headers=auth_header("staff", "baishi"))
    assert other.json()["code"] == "TOWNSHIP_FORBIDDEN"


async def test_the_status_page_tells_the_applicant_where_the_case_stands(intake, infra):
    client, app = intake
    case = await _submitted(client)
    await publish_events(infra.kafka_bootstrap, _routing_event(CaseAssigned, case, 1, CaseAssignedPayload(
        department_code="social_security", department_name="社保站", promised_deadline=case["promised_deadline"])))

    async def assigned():  # asked as staff: the status page's own requests are limited
        return (await client.get(f"/api/v1/cases/{case['case_id']}", headers=STAFF)).json()["status"] == "assigned"
    await eventually(assigned, what="intake to apply CaseAssigned")
    async with client_from(app, next(ADDRESSES)) as resident:
        shown = await resident.get(_status_path(case), headers={"X-Applicant-Phone": "+86 138-0013-8000"})
        assert shown.status_code == 200, shown.text
        view = shown.json()
        assert view["status"] == "assigned"
        assert (view["status_text"], view["department_name"], view["overdue"]) == ("承办部门正在办理", "社保站", False)
        assert view["promised_on"] and "承诺办结日期" in view["summary"] and "社保站" in view["summary"]
        # The tolerated photo (容缺) is owed by its due date; everything else was handed in.
        [owed] = view["owed_materials"]
        assert (owed["name"], owed["problem_text"]) == ("近期免冠照片", "缺少") and owed["due_on"]
        assert (view["can_rate"], view["rating_text"]) == (False, "办结后可以评价")
        assert "张三" not in json.dumps(view, ensure_ascii=False)
        early = await resident.post(_status_path(case, rate=True), json={"score": 5},
                                    headers={"X-Applicant-Phone": PHONE})
        assert (early.status_code, early.json()["code"]) == (409, "CASE_NOT_COMPLETED")
        bad = await resident.get(_status_path(case), headers={"X-Applicant-Phone": "12345"})
        assert (bad.status_code, bad.json()["code"]) == (422, "PHONE_INVALID")
        assert (await resident.get(_status_path(case))).status_code == 422


async def test_a_wrong_number_an_erased_one_and_an_unknown_case_look_the_same(intake):
    client, app = intake
    case = await _submitted(client)
    async with client_from(app, next(ADDRESSES)) as resident:
        wrong = await resident.get(_status_path(case), headers={"X-Applicant-Phone": OTHER_PHONE})
        unknown = await resident.get("/api/v1/cases/QS-19990101-9999/status", headers={"X-Applicant-Phone": PHONE})
        erased = await client.post(f"/api/v1/cases/{case['case_id']}/contact-erasure",
                                   json={"reason": "申请人要求删除联系方式"}, headers=HEAD)
        assert erased.status_code == 200, erased.text
        after_erasure = await resident.get(_status_path(case), headers={"X-Applicant-Phone": PHONE})
        rate_after = await resident.post(_status_path(case, rate=True), json={"score": 5},
                                         headers={"X-Applicant-Phone": PHONE})
    answers = {(r.status_code, r.text) for r in (wrong, unknown, after_erasure, rate_after)}
    assert len(answers) == 1
    status, text = answers.pop()
    assert status == 404 and json.loads(text)["code"] == "CASE_NOT_FOUND"


async def test_the_applicant_rates_from_the_status_page(intake, infra):
    client, app = intake
    case = await _completed(client, infra)
    phone = {"X-Applicant-Phone": PHONE}
    async with client_from(app, next(ADDRESSES)) as resident:
        view = (await resident.get(_status_path(case), headers=phone)).json()
        assert (view["status"], view["result_text"], view["can_rate"]) == ("completed", "准予办理", True)
        dims = await resident.post(_status_path(case, rate=True), headers=phone, json={"score": 5, "dimensions": {
            "overall": 5, "efficiency": 5, "competence": 5, "attitude": 5}})
        assert (dims.status_code, dims.json()["code"]) == (422, "RATING_DIMENSIONS_NOT_ALLOWED")
        rated = await resident.post(_status_path(case, rate=True), json={"score": 5, "comment": "不用跑第二趟"},
                                    headers=phone)
        assert rated.status_code == 201 and rated.json()["channel"] == "status_page"
        after = (await resident.get(_status_path(case), headers=phone)).json()
        assert (after["can_rate"], after["rating_text"]) == (False, "您已评价，感谢您的评价")
    body = await _rated_on_kafka(infra, case["case_id"])
    assert (body["payload"]["channel"], body["payload"]["score"], body["actor"]) == (
        "status_page", 5, {"kind": "resident", "id": "anonymous"})


async def test_status_lookups_are_limited_per_case_number_and_per_address(intake):
    client, app = intake
    case = await _submitted(client)
    answers = []
    for _ in range(PER_CASE + 1):  # each from another address: only the case's own limit counts
        async with client_from(app, next(ADDRESSES)) as caller:
            answers.append(await caller.get(_status_path(case), headers={"X-Applicant-Phone": OTHER_PHONE}))
    assert [r.status_code for r in answers] == [404] * PER_CASE + [429]
    limited = answers[-1]
    assert limited.json()["code"] == "STATUS_RATE_LIMITED" and "频繁" in limited.json()["message"]
    assert int(limited.headers["Retry-After"]) >= 1

    async with client_from(app, next(ADDRESSES)) as caller:
        tries = [await caller.get(f"/api/v1/cases/QS-20000101-{n:04d}/status", headers={"X-Applicant-Phone": PHONE})
                 for n in range(PER_ADDRESS + 1)]
        assert [r.status_code for r in tries] == [404] * PER_ADDRESS + [429]
        assert tries[-1].json()["code"] == "STATUS_RATE_LIMITED" and "Retry-After" in tries[-1].headers
