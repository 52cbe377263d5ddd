"""Residents reached through their village agent (代办员): a case whose contact record names an agent and no
mobile has every resident message texted to the agent's work number, the text saying for whom it is
(deploy/sms/templates.yaml `relayed`: 代{applicant_name}转告：).

The resident rules (domain.py, resident_notices.py) stay as they are: they are given the contact with the
agent's number standing in for the applicant's, and what they decide is then marked as relayed. An agent
notify has no number for is recorded unreachable like a staff member, so the centre follows it up by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from services.notify.domain import Contact, Outcome
from services.notify.recipients import Notice, Unreachable

# Stands in for an agent's unknown number while the rules decide; never queued (see relayed()).
_NO_NUMBER = ""


def through_agent(contact: Contact) -> bool:
    """The applicant has no mobile here (and was not erased): the agent named on the record passes it on."""
    return contact.phone is None and contact.agent_id is not None


def reaching(contact: Contact) -> Contact:
    """The contact the resident rules are given: the agent's number in place of a missing mobile."""
    if not through_agent(contact):
        return contact
    return replace(contact, phone=contact.agent_phone or _NO_NUMBER)


def relayed(outcomes: Iterable[Outcome], contact: Contact) -> list[Outcome]:
    """The rules' outcomes with each resident message marked for the agent to pass on, or, when notify knows
    no number for the agent, recorded as unreachable under the agent's id."""
    if not through_agent(contact):
        return list(outcomes)
    assert contact.agent_id is not None
    result: list[Outcome] = []
    for outcome in outcomes:
        if not (isinstance(outcome, Notice) and outcome.recipient_kind == "resident"):
            result.append(outcome)
        elif contact.agent_phone is None:
            result.append(Unreachable(recipient_id=contact.agent_id, template_code=outcome.template_code))
        else:
            result.append(replace(outcome, phone=contact.agent_phone, relayed_for=contact.applicant_name))
    return result
