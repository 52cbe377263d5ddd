"""The single window (一窗受理) across the four services, through HTTP only: an agent's case handed
over, decided and delivered; a refusal that only the centre head can make; a resident told twice
only because the county changed the item's requirements in between, and the second notice flagged."""

from __future__ import annotations

import asyncio

import pytest

from services.intake.tests.builders import revised_catalogue
from services.kit.testing import auth_header, eventually
from tests import scenario
from tests.builders import case_body

pytestmark = pytest.mark.e2e
AGENT = auth_header("village_agent", "qingshui", sub="qs-agent-dongcun")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")


async def test_an_agent_hands_over_a_case_and_delivers_its_result(http):
    body = case_body(61, channel="village_point", village_id="qs-dongfeng")
    received = await http.post("intake", "/api/v1/cases", body, headers=AGENT)
    assert received.status_code == 201 and received.json()["status"] == "received", received.text
    case_id = received.json()["case_id"]
    handed = await http.post("intake", f"/api/v1/cases/{case_id}/handover", {"materials": body["materials"]})
    assert handed.status_code == 201, handed.text
    reviewed = await http.post("intake", f"/api/v1/cases/{case_id}/review", {})
    assert reviewed.json()["status"] == "submitted"
    await scenario.complete(http, case_id)

    async def completed():
        view = (await http.get("intake", f"/api/v1/cases/{case_id}")).json()
        return view["status"] == "completed"

    await eventually(completed, timeout=60, what="intake to learn of the completion")
    delivered = await http.post("intake", f"/api/v1/cases/{case_id}/delivery",
                                {"acknowledgement": "signature", "note": "本人签收"}, headers=AGENT)
    assert delivered.status_code == 201, delivered.text
    history = await scenario.history_with(http, case_id, [
        "ApplicationReceived", "MaterialsHandedOver", "CaseSubmitted", "CaseAssigned", "CaseCompleted",
        "ResultDelivered"])
    by_type = {e["event_type"]: e for e in history["events"]}
    assert by_type["ApplicationReceived"]["actor"] == {"kind": "village_agent", "id": "qs-agent-dongcun"}
    assert by_type["MaterialsHandedOver"]["payload"]["received_by"] == "window-01"
    assert by_type["ResultDelivered"]["payload"]["acknowledgement"] == "signature"
    assert by_type["CaseSubmitted"]["payload"]["agent_id"] == "qs-agent-dongcun"
    assert history["gaps"] == []


async def test_a_refusal_at_intake_needs_the_centre_head(http):
    noticed = await http.post("intake", "/api/v1/cases", case_body(62, materials=["id_card"]))
    assert noticed.json()["status"] == "materials_requested", noticed.text
    case_id = noticed.json()["case_id"]
    refusal = {"reason": "申请人已在户籍地领取同类待遇", "legal_basis": "《城乡居民基本养老保险经办规程》第二十条"}
    by_window = await http.post("intake", f"/api/v1/cases/{case_id}/rejection", refusal)
    assert by_window.status_code == 403
    by_head = await http.post("intake", f"/api/v1/cases/{case_id}/rejection", refusal, headers=HEAD)
    assert by_head.json()["status"] == "rejected", by_head.text
    history = await scenario.history_with(http, case_id, ["MaterialsRequested", "CaseRejectedAtIntake"])
    # By type: the resident's SMS about the refusal may already follow it in the history.
    [refused] = [e for e in history["events"] if e["event_type"] == "CaseRejectedAtIntake"]
    assert refused["payload"]["approved_by"] == "qs-head" and refused["payload"]["proposed_by"] == "window-01"
    assert refused["actor"]["kind"] == "centre_head"
    # Routing never saw an accepted case: nothing to assign.
    assert (await http.get("routing", f"/api/v1/cases/{case_id}")).status_code == 404


async def test_told_twice_only_because_the_county_changed_the_item(http, system, tmp_path):
    """The second notice is allowed and flagged when the item's requirements changed; routing takes the
    case once it is complete, and the whole telling is in the audit history."""
    noticed = await http.post("intake", "/api/v1/cases", case_body(63, item_code="JY-001", materials=[]))
    assert noticed.json()["status"] == "materials_requested", noticed.text
    case_id = noticed.json()["case_id"]

    # The county revises the catalogue (JY-001 now also needs the 户口簿) and restarts intake with it.
    intake = system["intake"]
    intake.env["INTAKE_CATALOGUE_FILE"] = revised_catalogue(tmp_path / "county.yaml")
    await asyncio.to_thread(intake.stop)
    await asyncio.to_thread(intake.start)
    await asyncio.to_thread(intake.wait_ready)

    second = (await http.post("intake", f"/api/v1/cases/{case_id}/materials", {"materials": ["id_card"]})).json()
    assert (second["status"], second["second_notices"], [o["code"] for o in second["owed"]]) == (
        "materials_requested", 1, ["hukou"])
    piecemeal = await http.post("intake", f"/api/v1/cases/{case_id}/materials",
                                {"materials": ["hukou"], "additional": ["photo"]})
    assert piecemeal.json()["code"] == "NOTICE_PIECEMEAL"  # still nothing beyond what changed
    accepted = await http.post("intake", f"/api/v1/cases/{case_id}/materials", {"materials": ["hukou"]})
    assert accepted.json()["status"] == "submitted"
    await scenario.routing_case(http, case_id)
    history = await scenario.history_with(http, case_id, [
        "MaterialsRequested", "MaterialsSupplied", "MaterialsRequested", "MaterialsSupplied", "CaseSubmitted",
        "CaseAssigned"])
    notices = [e["payload"] for e in history["events"] if e["event_type"] == "MaterialsRequested"]
    assert [(n["notice_no"], n["second_notice"]) for n in notices] == [(1, False), (2, True)]
    assert notices[1]["requirements_changed_from"] == notices[0]["catalogue_version"] == "2026.11-r2"
    submitted = next(e for e in history["events"] if e["event_type"] == "CaseSubmitted")
    assert submitted["payload"]["notices_given"] == 2 and submitted["payload"]["catalogue_version"] == "2026.12"
