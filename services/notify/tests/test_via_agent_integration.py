"""A resident without a mobile, on real PostgreSQL and Kafka: the contact record names the village agent who
took the case, and the receipt SMS goes to the agent's work number from routing's staff-contacts topic."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts.contacts import CaseContact
from services.kit.testing import eventually
from services.notify.tests.builders import staff_contact, submitted
from services.notify.tests.probes import notify_for_notices, publish, publish_contacts, publish_staff_contacts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def notify(infra, make_database):
    async with notify_for_notices(infra, make_database, "it_notify_agents") as running:
        yield running


async def _messages(runtime, case_id) -> list[dict] | None:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT recipient_kind, phone, template_code, text, status FROM messages"
                                " WHERE case_id = $1", case_id)
    return [dict(r) for r in rows] or None


async def test_a_resident_without_a_mobile_is_texted_through_the_village_agent(infra, notify) -> None:
    _, runtime = notify
    township = f"t-{uuid4().hex[:8]}"
    agent = staff_contact(f"{township}-agent-dongfeng", township_id=township, role="village_agent", name="赵大姐",
                          department_code="village_point")
    await publish_staff_contacts(infra.kafka_bootstrap, agent)
    event = submitted(township_id=township, applicant_name="李桂兰", channel="village_point")
    await publish(infra.kafka_bootstrap, event, contacts=False)
    await publish_contacts(infra.kafka_bootstrap, CaseContact(
        case_id=event.case_id, township_id=township, version=1, recorded_at=datetime.now(UTC),
        agent_id=agent.staff_id))

    async def sent():
        rows = await _messages(runtime, event.case_id)
        return rows if rows and rows[0]["status"] == "sent" else None
    [message] = await eventually(sent, what="the receipt texted to the agent")
    assert (message["recipient_kind"], message["phone"], message["template_code"]) == (
        "resident", agent.phone, "case_submitted")
    assert "】代李桂兰转告：李桂兰您好" in message["text"]
