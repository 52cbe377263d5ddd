"""A case from the window to the resident's rating, through HTTP only, checked in audit and notify."""

from __future__ import annotations

import pytest

from tests import scenario

pytestmark = pytest.mark.e2e


async def test_case_lifecycle_is_audited_in_order_with_a_valid_chain(http):
    created = await scenario.submit(http, seed=11)
    case_id = created["case_id"]
    assigned = await scenario.routing_case(http, case_id)
    assert assigned["department_code"] == "social_security"
    await scenario.transfer(http, case_id)
    await scenario.complete(http, case_id)
    await scenario.rate(http, case_id, score=5)

    history = await scenario.history_with(http, case_id, scenario.LIFECYCLE + ["NotificationSent"] * 2)
    lifecycle = [e for e in history["events"] if e["event_type"] in scenario.LIFECYCLE]
    assert [e["event_type"] for e in lifecycle] == scenario.LIFECYCLE
    ids = [e["event_id"] for e in history["events"]]
    assert len(ids) == len(set(ids)), "an event was recorded twice"
    assert history["gaps"] == []

    submitted = lifecycle[0]
    caused = [e for e in history["events"] if e["event_type"] in ("CaseAssigned", "NotificationSent")]
    assert submitted["trace_id"] and any(e["trace_id"] == submitted["trace_id"] for e in caused), \
        "the trace of the HTTP submit does not reach the events it caused"

    integrity = (await http.get("audit", "/api/v1/integrity", headers=http.INSPECTOR)).json()
    assert integrity["valid"] is True and integrity["first_bad"] is None

    messages = await scenario.resident_messages(http, case_id, count=2)
    texts = " ".join(m["text"] for m in messages if m["recipient_kind"] == "resident")
    assert created["case_no"] in texts and "受理" in texts and "办结" in texts
    assert all("13912345678" not in m["phone"] for m in messages)
