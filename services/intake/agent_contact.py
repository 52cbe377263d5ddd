"""A resident without a mobile, reached through the village agent (代办员) who takes their application:
the case's contact names the agent instead of a number, and notify texts the agent, saying for whom
(contracts/contacts.py CaseContact.agent_id). Anyone else must give the applicant's mobile."""

from __future__ import annotations

from contracts.errors import DomainError


class ApplicantPhoneRequired(DomainError):
    status, code, message = 422, "APPLICANT_PHONE_REQUIRED", "请填写申请人的手机号码；申请人没有手机的，可由村代办员代办"


def reach(*, phone: str | None, agent_id: str | None) -> tuple[str | None, str | None]:
    """(phone, agent id) the case's contact is kept with: the applicant's own mobile first; without one, the
    agent who took the application passes messages on. Nobody to reach: ApplicantPhoneRequired."""
    if phone is not None:
        return phone, None
    if agent_id is None:
        raise ApplicantPhoneRequired()
    return None, agent_id
