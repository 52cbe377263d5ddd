"""A village agent takes an application for a resident without a mobile, on real PostgreSQL and Kafka: the
contact record on the contact topic names the agent; anyone else must give the applicant's mobile."""

from __future__ import annotations

from uuid import uuid4

import pytest

from contracts.contacts import parse_contact
from contracts.topics import INTAKE_CONTACTS
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.kit.testing import auth_header, consume_until, running_app, start_group_at_end

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="qs-general_window-01")
AGENT = auth_header("village_agent", "qingshui", sub="qs-agent-dongfeng")


@pytest.fixture(scope="module")
async def intake(infra, make_database):
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(DATABASE_URL=await make_database("it_intake_agent_contact"),
                              KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    async with running_app(create_app(settings)) as client:
        yield client


def _without_phone(**overrides) -> dict:
    body = case_body(**overrides)
    del body["applicant"]["phone"]
    return body


async def test_an_agent_submits_without_the_applicants_mobile_and_the_contact_names_the_agent(intake, infra):
    taken = await intake.post("/api/v1/cases", json=_without_phone(channel="village_point", village_id="qs-dongfeng"),
                              headers=AGENT)
    assert taken.status_code == 201, taken.text
    case_id = taken.json()["case_id"]
    found = []

    def match(record) -> bool:
        if record.key == case_id.encode():
            found.append(parse_contact(record.key, record.value)[1])
        return bool(found)

    await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS, match)
    [contact] = found
    assert contact is not None and (contact.applicant_phone, contact.agent_id) == (None, "qs-agent-dongfeng")


async def test_staff_must_give_the_applicants_mobile(intake):
    refused = await intake.post("/api/v1/cases", json=_without_phone(), headers=STAFF)
    assert (refused.status_code, refused.json()["code"]) == (422, "APPLICANT_PHONE_REQUIRED")
    assert "代办员" in refused.json()["message"]
