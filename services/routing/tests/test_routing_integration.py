"""Routing against real PostgreSQL and Kafka: assignment from CaseSubmitted, transfer, completion, guards, auth."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from contracts.events import CaseAssigned, CaseCompleted, CaseSubmitted, CaseTransferred
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.tests.builders import case_submitted
from services.routing.tests.probes import group_of, publish, wait_for_events

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="staff-qs-01", department_code="social_security")
HEAD = auth_header("centre_head", "qingshui", sub="head-qs")


@pytest.fixture(scope="module")
async def routing(infra, make_database):
    # An own consumer group, started at the topic's end: a running `make up` keeps its partitions,
    # and cases of earlier runs are not assigned (and announced) again.
    suffix = f"-it-{uuid4().hex[:8]}"
    settings = RoutingSettings(DATABASE_URL=await make_database("it_routing"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                               BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, deadline_scan_seconds=0.5)
    await start_group_at_end(infra.kafka_bootstrap, group_of(settings), [CaseSubmitted.TOPIC])
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


async def _routed(client, case_id, headers=STAFF) -> dict:
    async def probe():
        resp = await client.get(f"/api/v1/cases/{case_id}", headers=headers)
        return resp.json() if resp.status_code == 200 else None

    return await eventually(probe, what=f"routing to assign case {case_id}")


async def _assigned_case(client, bootstrap, **kw) -> tuple[CaseSubmitted, dict]:
    submitted = case_submitted(**kw)
    await publish(bootstrap, submitted)
    return submitted, await _routed(client, submitted.case_id)


async def _event_types(runtime, case_id) -> list[str]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT event_type FROM events WHERE case_id = $1 ORDER BY stream_version", case_id)
    return [r["event_type"] for r in rows]


async def test_case_submitted_is_assigned_once_with_its_cause(routing, infra):
    client, runtime = routing
    submitted = case_submitted()
    resubmitted = submitted.model_copy(update={"event_id": uuid4()})  # same case, another event: no second case
    await publish(infra.kafka_bootstrap, submitted, submitted, resubmitted)
    view = await _routed(client, submitted.case_id)
    assert (view["status"], view["department_code"], view["department_name"]) == ("assigned", "social_security", "社保站")
    assert view["staff_id"] in {"qs-social_security-01", "qs-social_security-02"}
    assert view["case_no"] == submitted.payload.case_no and view["overdue"] is False and view["transfer_count"] == 0

    async def resubmission_processed():
        async with runtime.pool.acquire() as conn:
            return await conn.fetchval("SELECT true FROM processed_events WHERE event_id = $1", resubmitted.event_id)

    await eventually(resubmission_processed, what="the resubmission to be consumed")
    assert await _event_types(runtime, submitted.case_id) == ["CaseAssigned"]
    [(body, headers)] = await wait_for_events(infra.kafka_bootstrap, CaseAssigned, submitted)
    assert body["causation_id"] == str(submitted.event_id) and body["correlation_id"] == str(submitted.case_id)
    assert body["actor"] == {"kind": "system", "id": "routing"} and body["source"] == "routing"
    assert body["stream_version"] == 1 and body["payload"]["staff_id"] == view["staff_id"]
    assert headers["event_type"] == "CaseAssigned" and headers["traceparent"].startswith("00-")


async def test_the_least_loaded_staff_member_gets_each_new_case(routing, infra):
    client, runtime = routing
    async with runtime.pool.acquire() as conn:
        load = dict(await conn.fetch(
            "SELECT s.staff_id, count(c.case_id) FROM staff s LEFT JOIN cases c ON c.staff_id = s.staff_id"
            " AND c.status = 'assigned' WHERE s.township_id = 'hexi' AND s.department_code = 'veterans'"
            " GROUP BY s.staff_id"))
    expected = []
    for _ in range(3):
        expected.append(min(load, key=lambda staff_id: (load[staff_id], staff_id)))  # fewest, then lowest id
        load[expected[-1]] += 1
    cases = [case_submitted(township_id="hexi", department_code="veterans") for _ in range(3)]
    await publish(infra.kafka_bootstrap, *cases)  # may be consumed concurrently from different partitions
    staff = [(await _routed(client, c.case_id, auth_header("staff", "hexi")))["staff_id"] for c in cases]
    assert sorted(staff) == sorted(expected)


async def test_unknown_department_goes_to_the_general_window(routing, infra):
    client, _ = routing
    _, view = await _assigned_case(client, infra.kafka_bootstrap, department_code="no_such_office")
    assert (view["department_code"], view["department_name"]) == ("general_window", "综合窗口")
    assert view["staff_id"].startswith("qs-general_window-")


async def test_transfer_reassigns_in_the_target_department(routing, infra):
    client, runtime = routing
    submitted, _ = await _assigned_case(client, infra.kafka_bootstrap)
    resp = await client.post(f"/api/v1/cases/{submitted.case_id}/transfer",
                             json={"to_department_code": "civil_affairs", "reason": "属民政业务"}, headers=STAFF)
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert (view["department_code"], view["department_name"], view["transfer_count"]) == ("civil_affairs", "民政办", 1)
    assert view["staff_id"].startswith("qs-civil_affairs-")
    assert await _event_types(runtime, submitted.case_id) == ["CaseAssigned", "CaseTransferred"]
    assert (await client.get(f"/api/v1/cases/{submitted.case_id}", headers=STAFF)).json() == view
    [(moved, _)] = await wait_for_events(infra.kafka_bootstrap, CaseTransferred, submitted)
    assert moved["payload"] == {"from_department_code": "social_security", "to_department_code": "civil_affairs",
                                "to_department_name": "民政办", "reason": "属民政业务", "transfer_count": 1,
                                "to_staff_id": view["staff_id"], "held_by_general_window": False}
    assert moved["actor"] == {"kind": "staff", "id": "staff-qs-01"} and moved["stream_version"] == 2


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"to_department_code": "social_security", "reason": "属社保业务"}, 409, "TRANSFER_SAME_DEPARTMENT"),
    ({"to_department_code": "no_such_office", "reason": "不知道"}, 422, "DEPARTMENT_UNKNOWN"),
    ({"to_department_code": "civil_affairs", "reason": "  "}, 422, "TRANSFER_REASON_REQUIRED"),
    ({"to_department_code": "civil_affairs"}, 422, "VALIDATION_FAILED"),
])
async def test_transfer_guards_emit_nothing(routing, infra, body, status, code):
    client, runtime = routing
    submitted, _ = await _assigned_case(client, infra.kafka_bootstrap)
    resp = await client.post(f"/api/v1/cases/{submitted.case_id}/transfer", json=body, headers=HEAD)
    assert (resp.status_code, resp.json()["code"]) == (status, code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json()["message"])
    assert await _event_types(runtime, submitted.case_id) == ["CaseAssigned"]


async def test_complete_once_and_refusal_needs_reasons(routing, infra):
    client, runtime = routing
    submitted, _ = await _assigned_case(client, infra.kafka_bootstrap)
    url = f"/api/v1/cases/{submitted.case_id}"
    refused = await client.post(f"{url}/complete", json={"result": "refused", "note": ""}, headers=STAFF)
    assert (refused.status_code, refused.json()["code"]) == (422, "REFUSAL_NOTE_REQUIRED")
    done = await client.post(f"{url}/complete", json={"result": "granted", "note": "已办结"}, headers=STAFF)
    assert done.status_code == 200, done.text
    view = done.json()
    assert (view["status"], view["result"], view["on_time"], view["overdue"]) == ("completed", "granted", True, False)
    assert view["completed_at"] is not None and (await client.get(url, headers=STAFF)).json() == view
    [(body, _)] = await wait_for_events(infra.kafka_bootstrap, CaseCompleted, submitted)
    assert body["payload"]["on_time"] is True and body["payload"]["result"] == "granted" and body["stream_version"] == 2
    again = await client.post(f"{url}/complete", json={"result": "granted"}, headers=STAFF)
    assert (again.status_code, again.json()["code"]) == (409, "CASE_ALREADY_COMPLETED")
    late_transfer = await client.post(f"{url}/transfer", json={"to_department_code": "civil_affairs", "reason": "晚了"},
                                      headers=STAFF)
    assert (late_transfer.status_code, late_transfer.json()["code"]) == (409, "CASE_ALREADY_COMPLETED")
    assert await _event_types(runtime, submitted.case_id) == ["CaseAssigned", "CaseCompleted"]


async def test_refusal_with_reasons_is_recorded(routing, infra):
    client, _ = routing
    submitted, _ = await _assigned_case(client, infra.kafka_bootstrap)
    note = "不符合申领条件；如不服，可于60日内申请行政复议或6个月内提起行政诉讼"
    resp = await client.post(f"/api/v1/cases/{submitted.case_id}/complete", json={"result": "refused", "note": note},
                             headers=HEAD)
    assert resp.status_code == 200 and (resp.json()["result"], resp.json()["note"]) == ("refused", note)
    [(body, _)] = await wait_for_events(infra.kafka_bootstrap, CaseCompleted, submitted)
    assert body["payload"]["note"] == note and body["actor"]["kind"] == "centre_head"


async def test_authentication_roles_and_townships(routing, infra):
    client, runtime = routing
    submitted, _ = await _assigned_case(client, infra.kafka_bootstrap)
    url = f"/api/v1/cases/{submitted.case_id}"
    transfer = {"to_department_code": "civil_affairs", "reason": "属民政业务"}
    assert (await client.get(url)).json()["code"] == "TOKEN_MISSING"
    assert (await client.post(f"{url}/transfer", json=transfer)).status_code == 401
    agent = await client.post(f"{url}/transfer", json=transfer, headers=auth_header("village_agent", "qingshui"))
    assert (agent.status_code, agent.json()["code"]) == (403, "ROLE_FORBIDDEN")
    inspector = auth_header("inspector", None)
    assert (await client.post(f"{url}/complete", json={"result": "granted"}, headers=inspector)).status_code == 403
    assert (await client.get(url, headers=inspector)).status_code == 200
    other = auth_header("staff", "baishi")
    seen = await client.get(url, headers=other)
    assert (seen.status_code, seen.json()["code"]) == (403, "TOWNSHIP_FORBIDDEN") and "其他乡镇" in seen.json()["message"]
    moved = await client.post(f"{url}/transfer", json=transfer, headers=other)
    assert (moved.status_code, moved.json()["code"]) == (403, "TOWNSHIP_FORBIDDEN")
    unknown = await client.get(f"/api/v1/cases/{uuid4()}", headers=STAFF)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "CASE_NOT_FOUND")
    nowhere = await client.post(f"/api/v1/cases/{uuid4()}/complete", json={"result": "granted"}, headers=STAFF)
    assert nowhere.status_code == 404
    assert await _event_types(runtime, submitted.case_id) == ["CaseAssigned"]


async def test_work_queue_lists_open_cases_of_the_township_nearest_deadline_first(routing, infra):
    client, _ = routing
    (first, _), (second, _), (done, _) = [await _assigned_case(client, infra.kafka_bootstrap) for _ in range(3)]
    await client.post(f"/api/v1/cases/{done.case_id}/complete", json={"result": "granted"}, headers=STAFF)
    queue = (await client.get("/api/v1/cases", params={"status": "open"}, headers=STAFF)).json()["cases"]
    ids = [c["case_id"] for c in queue]
    assert str(first.case_id) in ids and str(second.case_id) in ids and str(done.case_id) not in ids
    assert ids.index(str(first.case_id)) < ids.index(str(second.case_id))  # built later, so a later deadline
    assert [c["promised_deadline"] for c in queue] == sorted(c["promised_deadline"] for c in queue)
    assert {c["township_id"] for c in queue} == {"qingshui"}
    baishi = (await client.get("/api/v1/cases", headers=auth_header("staff", "baishi"))).json()["cases"]
    assert str(first.case_id) not in [c["case_id"] for c in baishi]
    inspector = auth_header("inspector", None)
    assert (await client.get("/api/v1/cases", headers=inspector)).json()["code"] == "TOWNSHIP_REQUIRED"
    county = await client.get("/api/v1/cases", params={"township_id": "qingshui"}, headers=inspector)
    assert str(first.case_id) in [c["case_id"] for c in county.json()["cases"]]
    foreign = await client.get("/api/v1/cases", params={"township_id": "baishi"}, headers=STAFF)
    assert foreign.status_code == 403


async def test_health_readiness_and_asyncapi(routing):
    client, _ = routing
    assert (await client.get("/healthz")).json() == {"status": "ok", "service": "routing"}
    async def relay_active():
        ready = await client.get("/readyz")
        return ready.status_code == 200 and ready.json()["checks"] == {"database": True, "kafka": True, "relay": "active"}
    await eventually(relay_active, what="routing ready with its relay active")
    doc = (await client.get("/asyncapi")).json()
    assert {c["address"] for c in doc["channels"].values()} == {"bianmin.intake.cases.v1", "bianmin.routing.cases.v1",
                                                                  "bianmin.routing.staff.v1"}
    published = json.dumps(doc["components"]["schemas"])  # routing's topic lists every event it carries
    for message in ("CaseAssigned", "CaseTransferred", "CaseCompleted", "DeadlineBreached"):
        assert message in published
