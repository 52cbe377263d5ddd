"""An application's way in against real PostgreSQL and Kafka: notice, supply, review and its lapse,
refusal by the centre head, idempotent resubmission, an agent's hand-over and delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseCompleted, CaseCompletedPayload, CaseSubmitted
from contracts.workdays import default_calendar
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.kit.testing import auth_header, consume_until, eventually, publish_events, running_app, start_group_at_end

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="qs-general_window-01")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")
AGENT = auth_header("village_agent", "qingshui", sub="qs-agent-dongcun")


@pytest.fixture(scope="module")
async def intake(infra, make_database, tmp_path_factory):
    clock_file = tmp_path_factory.mktemp("clock") / "offset"
    clock_file.write_text("0")
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(DATABASE_URL=await make_database("it_intake_app"),
                              KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix,
                              BIANMIN_CLOCK_FILE=str(clock_file), notice_period_scan_interval=0.2)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, clock_file


async def _events_of(infra, case_id: str, count: int) -> list[dict]:
    """The case's first `count` events on intake's topic, in order."""
    seen: dict[int, dict] = {}

    def match(record) -> bool:
        if record.key == case_id.encode():
            body = json.loads(record.value)
            seen[body["stream_version"]] = body
        return len(seen) >= count

    await consume_until(infra.kafka_bootstrap, CaseSubmitted.TOPIC, match)
    return [seen[v] for v in sorted(seen)]


async def _view(client, case_id: str) -> dict:
    return (await client.get(f"/api/v1/cases/{case_id}", headers=STAFF)).json()


async def test_a_notice_then_supplies_lead_to_acceptance(intake, infra):
    client, _ = intake
    resp = await client.post("/api/v1/cases", json=case_body(materials=["id_card"], faulty=[
        {"code": "id_card", "note": "身份证已过有效期"}]), headers=STAFF)
    assert resp.status_code == 201, resp.text
    noticed = resp.json()
    assert noticed["status"] == "materials_requested" and noticed["promised_deadline"] is None
    assert [(o["code"], o["problem"]) for o in noticed["owed"]] == [
        ("id_card", "faulty"), ("hukou", "missing"), ("bank_card", "missing")]
    case_id = noticed["case_id"]
    view = await _view(client, case_id)
    assert view["status"] == "materials_requested" and view["first_contact_staff_id"] == "qs-general_window-01"
    assert {o["code"] for o in view["owed"]} == {"id_card", "hukou", "bank_card"}

    partial = await client.post(f"/api/v1/cases/{case_id}/materials", json={"materials": ["id_card", "hukou"]},
                                headers=STAFF)
    assert partial.json()["status"] == "materials_requested" and [o["code"] for o in partial.json()["owed"]] == [
        "bank_card"]
    piecemeal = await client.post(f"/api/v1/cases/{case_id}/materials",
                                  json={"materials": ["bank_card"], "additional": ["photo"]}, headers=STAFF)
    assert piecemeal.status_code == 409 and piecemeal.json()["code"] == "NOTICE_PIECEMEAL"
    done = await client.post(f"/api/v1/cases/{case_id}/materials", json={"materials": ["bank_card"]}, headers=STAFF)
    assert done.json()["status"] == "submitted" and done.json()["promised_deadline"]
    assert done.json()["materials_tolerated_missing"] == ["photo"]

    events = await _events_of(infra, case_id, 5)
    assert [e["event_type"] for e in events] == [
        "MaterialsRequested", "MaterialsSupplied", "MaterialsSupplied", "CaseSubmitted", "ToleratedMaterialDue"]
    assert events[3]["payload"]["notices_given"] == 1 and events[3]["payload"]["received_at"]
    view = await _view(client, case_id)
    assert view["status"] in ("submitted", "assigned") and [o["code"] for o in view["owed"]] == ["photo"]

    owed = await client.post(f"/api/v1/cases/{case_id}/materials", json={"materials": ["photo"]}, headers=STAFF)
    assert owed.status_code == 200 and owed.json()["materials_tolerated_missing"] == []
    nothing = await client.post(f"/api/v1/cases/{case_id}/materials", json={"materials": ["photo"]}, headers=STAFF)
    assert nothing.status_code == 409 and nothing.json()["code"] == "NOTHING_OWED"
    assert (await _view(client, case_id))["owed"] == []


async def test_materials_received_for_review_count_as_accepted_when_the_notice_period_lapses(intake, infra):
    client, clock_file = intake
    body = case_body(channel="village_point", village_id="qs-dongfeng", materials=["id_card"])
    received = (await client.post("/api/v1/cases", json=body, headers=AGENT)).json()
    assert received["status"] == "received" and received["notice_due"]
    case_id = received["case_id"]
    view = await _view(client, case_id)
    assert view["agent_id"] == "qs-agent-dongcun" and view["first_contact_staff_id"] is None
    clock_file.write_text(str(9 * 86400))  # past 5 working days whatever the weekday
    try:
        async def accepted():
            found = await _view(client, case_id)
            return found if found["status"] == "submitted" else None

        view = await eventually(accepted, what="the notice-period watch to accept the case")
    finally:
        clock_file.write_text("0")
    assert view["deemed_accepted"] is True and view["accepted_at"] > view["received_at"]
    events = await _events_of(infra, case_id, 2)
    assert events[1]["event_type"] == "CaseSubmitted" and events[1]["payload"]["deemed_accepted"] is True
    assert events[1]["actor"] == {"kind": "system", "id": "intake-notice-period"}
    late = await client.post(f"/api/v1/cases/{case_id}/review", json={}, headers=STAFF)
    assert late.status_code == 409 and late.json()["code"] == "NOT_AWAITING_REVIEW"
    flagged = (await client.get("/api/v1/cases", params={"township_id": "qingshui", "flag": "deemed_accepted"},
                                headers=HEAD)).json()
    assert [c["case_id"] for c in flagged["cases"]] == [case_id] and flagged["total"] == 1
    piecemeal = await client.get("/api/v1/cases", params={"township_id": "qingshui", "flag": "second_notice"},
                                 headers=HEAD)
    assert piecemeal.json()["total"] == 0
    other = await client.get("/api/v1/cases", params={"township_id": "baishi"}, headers=HEAD)
    assert other.status_code == 403
    bad = await client.get("/api/v1/cases", params={"township_id": "qingshui", "flag": "late"}, headers=HEAD)
    assert bad.status_code == 422


async def test_only_the_centre_head_can_refuse_at_intake(intake, infra):
    client, _ = intake
    case_id = (await client.post("/api/v1/cases", json=case_body(materials=[]), headers=STAFF)).json()["case_id"]
    refusal = {"reason": "申请人不属于本乡镇户籍居民", "legal_basis": "《行政许可法》第三十二条第一款第（二）项"}
    by_staff = await client.post(f"/api/v1/cases/{case_id}/rejection", json=refusal, headers=STAFF)
    assert by_staff.status_code == 403 and by_staff.json()["code"] == "ROLE_FORBIDDEN"
    assert (await client.post(f"/api/v1/cases/{case_id}/rejection", json={"reason": "无"}, headers=HEAD)).status_code == 422
    by_head = await client.post(f"/api/v1/cases/{case_id}/rejection", json=refusal, headers=HEAD)
    assert by_head.status_code == 200 and by_head.json()["status"] == "rejected"
    again = await client.post(f"/api/v1/cases/{case_id}/rejection", json=refusal, headers=HEAD)
    assert again.status_code == 409 and again.json()["code"] == "CASE_ALREADY_REJECTED"
    events = await _events_of(infra, case_id, 2)
    assert events[1]["event_type"] == "CaseRejectedAtIntake"
    assert (events[1]["payload"]["approved_by"], events[1]["payload"]["proposed_by"]) == ("qs-head",
                                                                                         "qs-general_window-01")
    accepted = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()
    late = await client.post(f"/api/v1/cases/{accepted['case_id']}/rejection", json=refusal, headers=HEAD)
    assert late.status_code == 409 and late.json()["code"] == "CASE_ALREADY_ACCEPTED"


async def test_a_resent_submission_returns_the_same_case(intake):
    client, _ = intake
    key = {"Idempotency-Key": f"pad-{uuid4().hex}"}
    first = await client.post("/api/v1/cases", json=case_body(), headers={**STAFF, **key})
    again = await client.post("/api/v1/cases", json=case_body(), headers={**STAFF, **key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["case_id"] == first.json()["case_id"] and again.json()["replayed"] is True
    other = await client.post("/api/v1/cases", json=case_body(materials=["id_card"]), headers={**STAFF, **key})
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    bad = await client.post("/api/v1/cases", json=case_body(), headers={**STAFF, "Idempotency-Key": "x y"})
    assert bad.status_code == 422
    fresh = await client.post("/api/v1/cases", json=case_body(), headers=STAFF)
    assert fresh.json()["case_id"] != first.json()["case_id"]


async def test_an_agent_hands_materials_over_and_delivers_the_result(intake, infra):
    client, _ = intake
    body = case_body(channel="village_point", village_id="qs-dongfeng")
    case_id = (await client.post("/api/v1/cases", json=body, headers=AGENT)).json()["case_id"]
    handover = await client.post(f"/api/v1/cases/{case_id}/handover", json={"materials": ["id_card", "hukou"]},
                                 headers=STAFF)
    assert handover.status_code == 201, handover.text
    by_agent = await client.post(f"/api/v1/cases/{case_id}/handover", json={"materials": ["id_card"]}, headers=AGENT)
    assert by_agent.status_code == 403
    reviewed = await client.post(f"/api/v1/cases/{case_id}/review", json={}, headers=STAFF)
    assert reviewed.json()["status"] == "submitted"
    early = await client.post(f"/api/v1/cases/{case_id}/delivery", json={"acknowledgement": "signature"},
                              headers=AGENT)
    assert early.status_code == 409 and early.json()["code"] == "CASE_NOT_COMPLETED"

    completed = CaseCompleted(
        event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="routing",
        case_id=UUID(case_id), stream_version=2, township_id="qingshui", actor=Actor(kind="staff", id="s1"),
        correlation_id=UUID(case_id), payload=CaseCompletedPayload(
            department_code="social_security", result="granted", on_time=True,
            promised_deadline=reviewed.json()["promised_deadline"]))
    await publish_events(infra.kafka_bootstrap, completed)

    async def completed_view():
        found = await _view(client, case_id)
        return found if found["status"] == "completed" else None

    await eventually(completed_view, what="intake to apply CaseCompleted")
    other_agent = auth_header("village_agent", "qingshui", sub="qs-agent-xicun")
    wrong = await client.post(f"/api/v1/cases/{case_id}/delivery", json={"acknowledgement": "signature"},
                              headers=other_agent)
    assert wrong.status_code == 403 and wrong.json()["code"] == "NOT_CASE_AGENT"
    delivered = await client.post(f"/api/v1/cases/{case_id}/delivery",
                                  json={"acknowledgement": "fingerprint", "note": "本人按手印签收"}, headers=AGENT)
    assert delivered.status_code == 201
    assert (await _view(client, case_id))["delivered_at"] is not None
    events = await _events_of(infra, case_id, 5)
    kinds = [e["event_type"] for e in events]
    assert kinds == ["ApplicationReceived", "MaterialsHandedOver", "CaseSubmitted", "ToleratedMaterialDue",
                     "ResultDelivered"]
    assert events[1]["payload"]["received_by"] == "qs-general_window-01"
    assert events[4]["payload"]["acknowledgement"] == "fingerprint"


async def test_the_catalogue_decides_what_this_window_and_this_agent_may_take(intake):
    client, _ = intake
    cases = (
        (case_body(item_code="HJ-005", materials=["id_card"]), STAFF, "ITEM_NOT_OFFERED_HERE"),  # hexi only
        (case_body(item_code="YB-005", channel="village_point", village_id="qs-dongfeng", materials=["id_card"]),
         AGENT, "ITEM_NOT_FOR_AGENTS"),
        (case_body(channel="village_point", village_id="bs-baiyan"), AGENT, "VILLAGE_NOT_FOUND"),  # baishi's village
        (case_body(), AGENT, "AGENT_NEEDS_VILLAGE"),
    )
    for body, who, code in cases:
        resp = await client.post("/api/v1/cases", json=body, headers=who)
        assert (resp.status_code, resp.json()["code"]) == (422, code), resp.text
    accepted = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()
    view = await _view(client, accepted["case_id"])
    assert view["catalogue_version"] and view["kind"] == "promised"


async def test_a_deadline_in_a_year_the_calendar_does_not_know_is_a_clear_503(intake):
    """Not the window's mistake, and never a 500: county IT must add the year's schedule; nothing is written."""
    client, clock_file = intake
    unknown_year = max(default_calendar().known_years) + 1
    clock_file.write_text(str((datetime(unknown_year, 3, 2, 2, tzinfo=UTC) - datetime.now(UTC)).total_seconds()))
    try:
        before = (await client.get("/api/v1/cases", params={"township_id": "qingshui"}, headers=HEAD)).json()["total"]
        resp = await client.post("/api/v1/cases", json=case_body(), headers=STAFF)
        after = (await client.get("/api/v1/cases", params={"township_id": "qingshui"}, headers=HEAD)).json()["total"]
    finally:
        clock_file.write_text("0")
    assert (resp.status_code, resp.json()["code"]) == (503, "CALENDAR_YEAR_UNKNOWN")
    assert str(unknown_year) in resp.json()["message"] and after == before
