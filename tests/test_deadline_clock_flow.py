"""Across the services: a case paused, resumed, extended, warned, breached and completed; another passed back
and forth between two departments and flagged. HTTP in, Kafka between, audit history out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.workdays import SHANGHAI
from services.kit.testing import auth_header, eventually
from tests import scenario

pytestmark = pytest.mark.e2e
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")


def _offset_to(moment: datetime) -> str:
    """The clock file's offset, in seconds, that puts every service's clock just past `moment`."""
    return str(int((moment - datetime.now(UTC)).total_seconds()) + 60)


async def test_the_deadline_clock_from_intake_to_audit(http, clock_file):
    created = await scenario.submit(http, seed=81)
    case_id = created["case_id"]
    first = await scenario.routing_case(http, case_id)
    url, holder = f"/api/v1/cases/{case_id}", await scenario.holder(http, case_id)
    try:
        paused = await http.post("routing", f"{url}/pause", {"reason": "expert_review", "note": "组织专家评审"},
                                 headers=holder)
        assert paused.status_code == 200 and paused.json()["paused"] is True, paused.text
        clock_file.write_text(str(3 * 86400))  # three days stand still
        resumed = await http.post("routing", f"{url}/resume", {}, headers=holder)
        assert resumed.status_code == 200, resumed.text
        after_pause = datetime.fromisoformat(resumed.json()["promised_deadline"])
        assert after_pause > datetime.fromisoformat(first["promised_deadline"])
        assert resumed.json()["paused_working_days"] >= 1

        extended = await http.post("routing", f"{url}/extension", {"days": 5, "reason": "需补充现场核查"}, headers=HEAD)
        assert extended.status_code == 200 and extended.json()["extension_days"] == 5, extended.text
        deadline = datetime.fromisoformat(extended.json()["promised_deadline"])
        assert deadline > after_pause

        async def intake_shows(expected: datetime):
            view = (await http.get("intake", f"/api/v1/cases/{case_id}")).json()
            return view if datetime.fromisoformat(view["promised_deadline"]) == expected else None

        await eventually(lambda: intake_shows(deadline), timeout=60, what="intake to show the extended deadline")

        morning = datetime.combine(deadline.astimezone(SHANGHAI).date(), datetime.min.time(), tzinfo=SHANGHAI)
        clock_file.write_text(_offset_to(morning + timedelta(hours=8)))  # the last day's morning: yellow
        await scenario.history_with(http, case_id, ["DeadlineWarning"])
        bench = (await http.get("routing", "/api/v1/workbench", headers=holder)).json()
        assert next(c for c in bench["cases"] if c["case_id"] == case_id)["light"] == "yellow"

        clock_file.write_text(_offset_to(deadline))  # past it: red
        await scenario.history_with(http, case_id, ["DeadlineBreached"])
        done = await scenario.complete(http, case_id)
        assert done["on_time"] is False
        history = await scenario.history_with(http, case_id, [
            "CaseSubmitted", "CaseAssigned", "ClockPaused", "ClockResumed", "DeadlineExtended", "DeadlineWarning",
            "DeadlineBreached", "CaseCompleted"])
        routing_types = [e["event_type"] for e in history["events"] if e["source"] == "routing"]
        assert routing_types[:7] == ["CaseAssigned", "ClockPaused", "ClockResumed", "DeadlineExtended",
                                     "DeadlineWarning", "DeadlineBreached", "CaseCompleted"]

        async def staff_told():
            data = (await http.get("notify", "/api/v1/messages", params={"case_id": case_id})).json()
            staff = [m for m in data if m["template_code"] in ("deadline_warning", "deadline_breached")]
            return staff if len(staff) >= 2 else None  # the warning to the holder, the breach to holder and head

        staff = await eventually(staff_told, timeout=60, what="the staff SMS of the warning and the breach")
        assert all(created["case_no"] in m["text"] for m in staff)
    finally:
        clock_file.write_text("0")


async def test_a_case_passed_back_is_flagged_for_the_centre_head(http):
    created = await scenario.submit(http, seed=82)
    case_id = created["case_id"]
    await scenario.routing_case(http, case_id)
    await scenario.transfer(http, case_id, to="civil_affairs")
    back = await http.post("routing", f"/api/v1/cases/{case_id}/transfer",
                           {"to_department_code": "social_security", "reason": "属社保业务，退回"},
                           headers=await scenario.holder(http, case_id))
    assert back.status_code == 200, back.text
    assert back.json()["flagged"] is True
    assert back.json()["path"] == ["social_security", "civil_affairs", "social_security"]
    history = await scenario.history_with(http, case_id, ["CaseTransferred", "CaseTransferred", "CaseFlagged"])
    [flag] = [e for e in history["events"] if e["event_type"] == "CaseFlagged"]
    assert flag["payload"]["reason"] == "ping_pong" and flag["payload"]["transfer_count"] == 2
