"""The records on the contact topics: how to reach a case's applicant (bianmin.intake.contacts.v1)
and a staff member (bianmin.routing.staff-contacts.v1).

Not an event: the topic is compacted and keyed by case id, so Kafka keeps the latest record of each
case. Intake publishes one when a case is taken in; when the resident's contact is erased it
publishes a tombstone (the key with no value), and compaction removes the number from the log.
Only notify may read these topics (deploy/kafka_acls.py); no other topic carries a phone number.
Routing publishes a StaffContact keyed by staff id the same way, and a tombstone when a staff member leaves.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class CaseContact(BaseModel):
    """How to reach the applicant of one case; the Kafka key is the case id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID = Field(description="The case; also the Kafka key.", examples=["01936f6e-0000-7000-8000-000000000001"])
    township_id: str = Field(max_length=32, description="Township centre that owns the case.", examples=["qingshui"])
    version: int = Field(ge=1, description="1, 2, 3 … per case: a reader keeps the highest it has seen.", examples=[1])
    recorded_at: AwareDatetime = Field(description="When intake recorded this contact, UTC.",
                                       examples=["2026-11-23T02:15:00Z"])
    applicant_phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$",
                                        description="Applicant's mobile number, E.164; absent only when `agent_id` "
                                        "names the village agent who reaches them.", examples=["+8613800138000"])
    # A resident without a mobile is reached through the village agent (代办员) who took the case: notify texts
    # the agent's work number (a StaffContact with role village_agent) saying for whom it is.
    agent_id: str | None = Field(default=None, max_length=64,
                                 description="Village agent who took the case and passes messages on, when the "
                                 "applicant has no mobile.", examples=[None])
    # The SMS rating link travels here and nowhere else: like the number, only notify reads this topic, and a
    # tombstone removes it with the number (docs/adr/0029-sms-templates.md).
    rating_link: str | None = Field(
        default=None, pattern=r"^/api/v1/rate/[A-Za-z0-9_-]{48}$",
        description="Path of the case's SMS rating link (短信评价链接), once intake issued one; notify texts it once.",
        examples=[None])
    rating_link_expires_at: AwareDatetime | None = Field(default=None, description="When the link stops working, UTC.",
                                                         examples=[None])
    # Absent for the first link, so a reader that predates it still reads every first-round record.
    rating_round: int | None = Field(default=None, ge=2, le=2, description="2 when the link is for rating again "
                                     "after a rectification asked for it (整改后再评价); absent for the first.",
                                     examples=[None])

    @model_validator(mode="after")
    def _link_with_expiry(self) -> CaseContact:
        if (self.rating_link is None) != (self.rating_link_expires_at is None):
            raise ValueError("rating_link and rating_link_expires_at come together")
        if self.applicant_phone is None and self.agent_id is None:
            raise ValueError("a contact record has applicant_phone, agent_id or both")
        return self

    def to_json_bytes(self) -> bytes:
        # Without the optional fields when unset, so a reader that predates them still reads the record.
        return self.model_dump_json(exclude_none=True).encode()


def parse_contact(key: bytes | None, value: bytes | None) -> tuple[UUID, CaseContact | None]:
    """(case id, contact) of one record; contact None for a tombstone. ValueError on anything else."""
    if not key:
        raise ValueError("contact record without a key")
    case_id = UUID(key.decode("ascii"))
    if value is None:
        return case_id, None
    contact = CaseContact.model_validate_json(value)
    if contact.case_id != case_id:
        raise ValueError("contact record's key and case_id differ")
    return case_id, contact


class StaffContact(BaseModel):
    """How to reach one staff member about their cases; the Kafka key is the staff id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    staff_id: str = Field(max_length=64, description="Staff id; also the Kafka key.", examples=["qs-social_security-01"])
    township_id: str = Field(max_length=32, description="Township centre the staff member works in.",
                             examples=["qingshui"])
    department_code: str = Field(max_length=32, description="Their department; `village_point` for a village agent.",
                                 examples=["social_security"])
    role: Literal["staff", "centre_head", "village_agent"] = Field(
        description="A centre head (中心主任) also hears of every breach in the township; a village agent (代办员) "
        "passes messages on to residents without a mobile.", examples=["staff"])
    name: str = Field(max_length=40, description="Name used in the SMS greeting.", examples=["王芳"])
    version: int = Field(ge=1, description="1, 2, 3 … per staff member: a reader keeps the highest it has seen.",
                         examples=[1])
    recorded_at: AwareDatetime = Field(description="When routing recorded this contact, UTC.",
                                       examples=["2026-11-23T02:15:00Z"])
    phone: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="Work mobile number, E.164.",
                       examples=["+8613900010002"])

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def parse_staff_contact(key: bytes | None, value: bytes | None) -> tuple[str, StaffContact | None]:
    """(staff id, contact) of one record; contact None for a tombstone. ValueError on anything else."""
    if not key:
        raise ValueError("staff contact record without a key")
    staff_id = key.decode("ascii")
    if value is None:
        return staff_id, None
    contact = StaffContact.model_validate_json(value)
    if contact.staff_id != staff_id:
        raise ValueError("staff contact record's key and staff_id differ")
    return staff_id, contact
