"""A resident's number erased on request: gone from every service and from the contact topic's
latest record, while the case history stays whole and the audit chain stays valid."""

from __future__ import annotations

import asyncpg
import pytest

from contracts.topics import INTAKE_CONTACTS
from services.kit.testing import auth_header, consume_until, eventually
from tests import scenario
from tests.builders import case_body

pytestmark = pytest.mark.e2e
HEAD = auth_header("centre_head", "qingshui", sub="head-01")
PHONE = "13755550021"  # this test's own number: the other scenarios share theirs


async def _rows_holding(conn: asyncpg.Connection, digits: str, case_id: str) -> dict[str, int]:
    """Where the number is still stored in full, table by table, for this case."""
    like = f"%{digits}%"
    queries = {
        "intake.case_contacts": "SELECT count(*) FROM intake.case_contacts WHERE case_id = $1::uuid AND phone LIKE $2",
        "notify.resident_phones": "SELECT count(*) FROM notify.resident_phones WHERE case_id = $1::uuid AND phone LIKE $2",
        "notify.messages": "SELECT count(*) FROM notify.messages WHERE case_id = $1::uuid AND phone LIKE $2",
        "notify.dev_sms_log": "SELECT count(*) FROM notify.dev_sms_log l JOIN notify.messages m USING (message_id)"
                              " WHERE m.case_id = $1::uuid AND l.phone LIKE $2",
        "audit.audit_log": "SELECT count(*) FROM audit.audit_log WHERE case_id = $1::uuid AND envelope LIKE $2",
    }
    return {table: await conn.fetchval(sql, case_id, like) for table, sql in queries.items()}


async def test_an_erased_contact_is_gone_and_the_history_is_whole(http, system, infra):
    body = case_body(21)
    body["applicant"]["phone"] = PHONE
    created = (await http.post("intake", "/api/v1/cases", body)).json()
    case_id = created["case_id"]
    await scenario.resident_messages(http, case_id, count=1)  # the 受理 SMS went to the number
    conn = await asyncpg.connect(system["intake"].env["DATABASE_URL"])
    try:
        before = await _rows_holding(conn, PHONE, case_id)
        assert before["notify.dev_sms_log"] == 1 and before["audit.audit_log"] == 0  # never on a case topic

        erased = await http.post("intake", f"/api/v1/cases/{case_id}/contact-erasure",
                                 {"reason": "申请人依法要求删除联系方式"}, headers=HEAD)
        assert erased.status_code == 200, erased.text

        async def erased_everywhere():
            return all(n == 0 for n in (await _rows_holding(conn, PHONE, case_id)).values())
        await eventually(erased_everywhere, timeout=60, what="the number to be erased in every service")
    finally:
        await conn.close()

    tombstone = await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS,
                                    lambda r: r.key == case_id.encode() and r.value is None)
    assert tombstone.value is None
    # The case goes on; its result reaches nobody's phone, and the history holds every step.
    await scenario.complete(http, case_id)
    history = await scenario.history_with(
        http, case_id, ["CaseSubmitted", "CaseAssigned", "ContactErased", "CaseCompleted", "NotificationSent"])
    types = [e["event_type"] for e in history["events"]]
    assert types.index("CaseSubmitted") < types.index("ContactErased") < types.index("CaseCompleted")
    assert history["gaps"] == []
    erasure = next(e for e in history["events"] if e["event_type"] == "ContactErased")
    assert erasure["actor"] == {"kind": "centre_head", "id": "head-01"}
    integrity = (await http.get("audit", "/api/v1/integrity", headers=http.INSPECTOR)).json()
    assert integrity["valid"] is True and integrity["first_bad"] is None
    completion = next(e["event_id"] for e in history["events"] if e["event_type"] == "CaseCompleted")
    conn = await asyncpg.connect(system["notify"].env["DATABASE_URL"])
    try:
        async def notify_applied_the_completion() -> bool:
            return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM notify.processed_events WHERE event_id = $1::uuid)",
                                       completion)
        await eventually(notify_applied_the_completion, timeout=60, what="notify to apply the completion")
    finally:
        await conn.close()
    messages = (await http.get("notify", "/api/v1/messages", params={"case_id": case_id})).json()
    assert [m["template_code"] for m in messages if m["recipient_kind"] == "resident"] == ["case_submitted"]
