"""An open case passing its deadline: one DeadlineBreached, staff SMS, audited."""

from __future__ import annotations

import pytest

from services.kit.testing import eventually
from tests import scenario

pytestmark = pytest.mark.e2e


async def test_breach_is_emitted_once_and_staff_are_told(http, clock_file):
    created = await scenario.submit(http, seed=41)
    case_id = created["case_id"]
    await scenario.routing_case(http, case_id)
    clock_file.write_text(str(40 * 86400))  # every service's clock jumps 40 days ahead
    try:
        history = await scenario.history_with(http, case_id, ["CaseSubmitted", "CaseAssigned", "DeadlineBreached"])
        view = await scenario.routing_case(http, case_id)
        assert view["overdue"] is True

        async def staff_sms():
            data = (await http.get("notify", "/api/v1/messages", params={"case_id": case_id})).json()
            items = data
            return [m for m in items if m["template_code"] == "deadline_breached"]  # not the case_to_hold before it

        staff = await eventually(staff_sms, timeout=60, what="the staff SMS about the breach")
        assert created["case_no"] in staff[0]["text"]
        history = await scenario.history_with(http, case_id, ["DeadlineBreached", "NotificationSent"], extra=2)
        assert [e["event_type"] for e in history["events"]].count("DeadlineBreached") == 1
    finally:
        clock_file.write_text("0")
