"""The record on the contact topic (bianmin.intake.contacts.v1): how to reach a case's applicant.

Not an event: the topic is compacted and keyed by case id, so Kafka keeps the latest record of each
case. Intake publishes one when a case is taken in; when the resident's contact is erased it
publishes a tombstone (the key with no value), and compaction removes the number from the log.
Only notify may read this topic (deploy/kafka_acls.py); no other topic carries a phone number.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CaseContact(BaseModel):
    """How to reach the applicant of one case; the Kafka key is the case id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID = Field(description="The case; also the Kafka key.", examples=["01936f6e-0000-7000-8000-000000000001"])
    township_id: str = Field(max_length=32, description="Township centre that owns the case.", examples=["qingshui"])
    version: int = Field(ge=1, description="1, 2, 3 … per case: a reader keeps the highest it has seen.", examples=[1])
    recorded_at: AwareDatetime = Field(description="When intake recorded this contact, UTC.",
                                       examples=["2026-11-23T02:15:00Z"])
    applicant_phone: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="Applicant's mobile number, E.164.",
                                 examples=["+8613800138000"])

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()


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
