"""Complaints in routing on real PostgreSQL and Kafka: held from ComplaintRegistered, listed for the centre
head, answered once (ComplaintAnswered on Kafka), never by the staff member complained about."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import ComplaintAnswered, ComplaintRegistered, ComplaintRegisteredPayload
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.tests.probes import group_of, publish, wait_for_events

pytestmark = pytest.mark.integration
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")
ACCUSED = auth_header("staff", "qingshui", sub="qs-medical_insurance-01", department_code="medical_insurance")
COLLEAGUE = auth_header("staff", "qingshui", sub="qs-medical_insurance-02", department_code="medical_insurance")
OTHER_UNIT = auth_header("staff", "qingshui", sub="qs-civil_affairs-01", department_code="civil_affairs")
ANSWER = {"answer": "经核实，当日医保窗口人员外出未公示去向，已责令整改。\n感谢监督。", "upheld": True}


@pytest.fixture(scope="module")
async def routing(infra, make_database):
    suffix = f"-it-{uuid4().hex[:8]}"
    settings = RoutingSettings(DATABASE_URL=await make_database("it_complaints"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                               BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    await start_group_at_end(infra.kafka_bootstrap, group_of(settings), [ComplaintRegistered.TOPIC])
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


def registered(*, township_id: str = "qingshui", department_code: str | None = "medical_insurance",
               about_staff_id: str | None = "qs-medical_insurance-01", answer_due: datetime | None = None,
               ) -> ComplaintRegistered:
    """A ComplaintRegistered as intake would publish it."""
    complaint_id, now = new_event_id(), datetime.now(UTC)
    return ComplaintRegistered(
        event_id=new_event_id(), schema_version="1.0", occurred_at=now, source="intake", case_id=complaint_id,
        stream_version=1, township_id=township_id, actor=Actor(kind="staff", id="qs-general_window-01"),
        correlation_id=complaint_id, payload=ComplaintRegisteredPayload(
            complaint_kind="complaint", complaint_no=f"QS-T-{now:%Y%m%d}-{complaint_id.hex[-4:]}",
            subject="窗口工作人员不在岗", content="上午十点到医保窗口无人办理", department_code=department_code,
            about_staff_id=about_staff_id, complainant_name="李四", answer_due=answer_due or now + timedelta(days=21),
            first_contact_staff_id="qs-general_window-01"))


async def _held(client, event: ComplaintRegistered, headers=HEAD) -> dict:
    async def probe():
        resp = await client.get("/api/v1/complaints", headers=headers, params={"township_id": event.township_id})
        return next((c for c in resp.json()["complaints"] if c["complaint_id"] == str(event.case_id)), None)
    return await eventually(probe, what=f"routing to hold complaint {event.case_id}")


async def test_a_registered_complaint_is_held_once_and_answered_once_on_time(routing, infra):
    client, runtime = routing
    event = registered()
    await publish(infra.kafka_bootstrap, event, event, event.model_copy(update={"event_id": new_event_id()}))
    held = await _held(client, event)
    assert (held["status"], held["overdue"], held["about_staff_id"]) == ("open", False, "qs-medical_insurance-01")

    url = f"/api/v1/complaints/{event.case_id}/answer"
    answered = await client.post(url, json=ANSWER, headers=COLLEAGUE)
    assert answered.status_code == 200, answered.text
    view = answered.json()
    assert (view["status"], view["on_time"], view["answered_by"], view["upheld"]) == (
        "answered", True, "qs-medical_insurance-02", True)
    [(body, headers)] = await wait_for_events(infra.kafka_bootstrap, ComplaintAnswered, event)
    assert headers["event_type"] == "ComplaintAnswered" and body["township_id"] == "qingshui"
    assert body["payload"]["on_time"] is True and body["payload"]["answer"] == ANSWER["answer"]

    again = await client.post(url, json=ANSWER, headers=HEAD)
    assert (again.status_code, again.json()["code"]) == (409, "COMPLAINT_ALREADY_ANSWERED")
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM complaints WHERE complaint_id = $1", event.case_id) == 1
        assert await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1", event.case_id) == 1


async def test_the_staff_member_complained_about_may_not_answer_even_as_centre_head(routing, infra):
    client, runtime = routing
    about_staff, about_head = registered(), registered(department_code=None, about_staff_id="qs-head")
    await publish(infra.kafka_bootstrap, about_staff, about_head)
    await _held(client, about_staff)
    await _held(client, about_head)

    refused = await client.post(f"/api/v1/complaints/{about_staff.case_id}/answer", json=ANSWER, headers=ACCUSED)
    assert (refused.status_code, refused.json()["code"]) == (403, "COMPLAINT_ABOUT_ANSWERER")
    assert "被投诉人" in refused.json()["message"]
    head_refused = await client.post(f"/api/v1/complaints/{about_head.case_id}/answer", json=ANSWER, headers=HEAD)
    assert head_refused.json()["code"] == "COMPLAINT_ABOUT_ANSWERER"
    assert (await _held(client, about_head))["complainant_name"] is None  # the head complained about is not told who
    assert (await _held(client, about_staff))["complainant_name"] == "李四"
    # With no department named, only the centre head holds it; here another head of the township answers.
    no_unit = await client.post(f"/api/v1/complaints/{about_head.case_id}/answer", json=ANSWER, headers=COLLEAGUE)
    assert (no_unit.status_code, no_unit.json()["code"]) == (403, "NOT_CASE_HOLDER")
    deputy = auth_header("centre_head", "qingshui", sub="qs-deputy-head")
    assert (await client.post(f"/api/v1/complaints/{about_head.case_id}/answer", json=ANSWER,
                              headers=deputy)).status_code == 200
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1", about_staff.case_id) == 0


async def test_only_the_named_department_or_the_centre_head_answers(routing, infra):
    client, _ = routing
    event = registered(about_staff_id=None)
    await publish(infra.kafka_bootstrap, event)
    await _held(client, event)
    url = f"/api/v1/complaints/{event.case_id}/answer"
    assert (await client.post(url, json=ANSWER, headers=OTHER_UNIT)).json()["code"] == "NOT_CASE_HOLDER"
    elsewhere = auth_header("centre_head", "hexi", sub="hx-head")
    assert (await client.post(url, json=ANSWER, headers=elsewhere)).json()["code"] == "TOWNSHIP_FORBIDDEN"
    agent = auth_header("village_agent", "qingshui")
    assert (await client.post(url, json=ANSWER, headers=agent)).json()["code"] == "ROLE_FORBIDDEN"
    assert (await client.post(url, json={"answer": "  ", "upheld": False}, headers=HEAD)).json()["code"] == \
        "COMPLAINT_ANSWER_REQUIRED"
    assert (await client.post(url, json={"answer": "答\x07复", "upheld": False}, headers=HEAD)).json()["code"] == \
        "TEXT_UNSAFE_CHARACTER"
    assert (await client.post(url, json={"answer": "答" * 2001, "upheld": False}, headers=HEAD)).status_code == 422
    unknown = await client.post(f"/api/v1/complaints/{uuid4()}/answer", json=ANSWER, headers=HEAD)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "COMPLAINT_NOT_FOUND")
    assert (await client.post(url, json=ANSWER, headers=HEAD)).status_code == 200


async def test_the_list_shows_open_complaints_first_by_answer_due_and_a_late_answer_is_not_on_time(routing, infra):
    client, _ = routing
    now = datetime.now(UTC)
    overdue, soon, later = (registered(township_id="baishi", about_staff_id=None, answer_due=now + d)
                            for d in (timedelta(days=-1), timedelta(days=2), timedelta(days=9)))
    await publish(infra.kafka_bootstrap, later, overdue, soon)
    head = auth_header("centre_head", "baishi", sub="bs-head")
    for event in (later, overdue, soon):
        await _held(client, event, headers=head)
    answered = await client.post(f"/api/v1/complaints/{later.case_id}/answer", json=ANSWER, headers=head)
    assert answered.json()["on_time"] is True

    listed = (await client.get("/api/v1/complaints", headers=head)).json()["complaints"]
    assert [c["complaint_id"] for c in listed] == [str(e.case_id) for e in (overdue, soon, later)]
    assert [c["overdue"] for c in listed] == [True, False, False]
    late = await client.post(f"/api/v1/complaints/{overdue.case_id}/answer", json=ANSWER, headers=head)
    assert (late.json()["on_time"], late.json()["overdue"]) == (False, True)
    [(body, _)] = await wait_for_events(infra.kafka_bootstrap, ComplaintAnswered, overdue)
    assert json.dumps(body["payload"]["on_time"]) == "false"


async def test_who_may_list_complaints(routing):
    client, _ = routing
    assert (await client.get("/api/v1/complaints", headers=COLLEAGUE)).json()["code"] == "ROLE_FORBIDDEN"
    inspector = auth_header("inspector", None, sub="inspector-01")
    assert (await client.get("/api/v1/complaints", headers=inspector)).json()["code"] == "TOWNSHIP_REQUIRED"
    assert (await client.get("/api/v1/complaints", headers=inspector, params={"township_id": "qingshui"})).status_code == 200
    other = await client.get("/api/v1/complaints", headers=HEAD, params={"township_id": "hexi"})
    assert other.json()["code"] == "TOWNSHIP_FORBIDDEN"
