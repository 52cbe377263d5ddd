"""A resident without a mobile, on real PostgreSQL and Kafka: the contact record names the village agent who
took the case, and the receipt SMS goes to the agent's work number from routing's staff-contacts topic."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts.contacts import CaseContact
from contracts.events import CaseCompleted, CaseSubmitted
from contracts.topics import INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS
from services.kit.testing import eventually, running_app, start_group_at_end
from services.notify.app import create_app
from services.notify.settings import NotifySettings
from services.notify.tests.builders import staff_contact, submitted
from services.notify.tests.probes import publish, publish_contacts, publish_staff_contacts, skip_other_suites_cases
from services.notify.tests.rules_off import RULES_OFF

pytestmark = pytest.mark.integration
TOPICS = sorted({CaseSubmitted.TOPIC, CaseCompleted.TOPIC, INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS})


@pytest.fixture(scope="module")
async def notify(infra, make_database):
    suffix = f"-it-{uuid4().hex[:8]}"
    settings = NotifySettings(
        DATABASE_URL=await make_database("it_notify_agents"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
        BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, send_interval=0.1, send_backoff_first=0.1, **RULES_OFF,
    )
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-notify{suffix}", TOPICS)
    app = create_app(settings)
    skip_other_suites_cases(app.state.runtime.inbox)
    async with running_app(app) as client:
        yield client, app.state.runtime


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
