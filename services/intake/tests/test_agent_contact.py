"""A resident without a mobile: the contact kept names the village agent who took the application."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.contacts import CaseContact, parse_contact
from services.intake.agent_contact import ApplicantPhoneRequired, reach
from services.intake.contact_relay import record_of


def test_the_applicants_mobile_comes_first_then_the_agent_else_nobody_may_submit() -> None:
    assert reach(phone="+8613800138000", agent_id="qs-agent-dongfeng") == ("+8613800138000", None)
    assert reach(phone=None, agent_id="qs-agent-dongfeng") == (None, "qs-agent-dongfeng")
    with pytest.raises(ApplicantPhoneRequired) as refused:
        reach(phone=None, agent_id=None)
    assert (refused.value.status, refused.value.code) == (422, "APPLICANT_PHONE_REQUIRED")


def _row(**fields) -> dict:
    return {"case_id": uuid4(), "township_id": "qingshui", "version": 1, "recorded_at": datetime.now(UTC),
            "phone": None, "agent_id": "qs-agent-dongfeng", "rating_link_id": None, **fields}


def test_the_record_names_the_agent_and_no_number_and_an_erased_one_is_a_tombstone() -> None:
    key, value = record_of(_row())
    assert value is not None and b"applicant_phone" not in value
    case_id, contact = parse_contact(key, value)
    assert contact is not None and (contact.agent_id, contact.applicant_phone) == ("qs-agent-dongfeng", None)
    assert record_of(_row(agent_id=None))[1] is None  # erased: phone and agent both gone
    _, with_phone = record_of(_row(phone="+8613800138000", agent_id=None))
    assert with_phone is not None and b"agent_id" not in with_phone  # readers that predate agents still read it


def test_a_record_with_neither_number_nor_agent_is_refused() -> None:
    with pytest.raises(ValidationError, match="applicant_phone, agent_id"):
        CaseContact(case_id=uuid4(), township_id="qingshui", version=1, recorded_at=datetime.now(UTC))
