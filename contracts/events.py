"""Every bianmin event type: one envelope subclass with a typed payload each."""

from __future__ import annotations

import json
from typing import ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AwareDatetime, Field

from contracts.envelope import Envelope, Payload
from contracts.topics import AUDIT_CHECKPOINTS, INTAKE_CASES, NOTIFY_CASES, ROUTING_CASES

Channel = Literal["window", "village_point", "appointment", "home_visit", "phone", "online"]
CaseKind = Literal["immediate", "promised", "joint", "escalated", "returned"]
CompletionResult = Literal["granted", "refused"]
RecipientKind = Literal["resident", "staff"]

_DEADLINE = Field(description="Promised deadline: end of the last working day, UTC.", examples=["2026-12-04T15:59:59.999999Z"])


class CaseSubmittedPayload(Payload):
    case_no: str = Field(description="Human case number shown to the resident.", examples=["QS-20261123-0001"])
    item_code: str = Field(description="Service item applied for.", examples=["YB-001"])
    item_name: str = Field(description="Name of the service item.", examples=["城乡居民医保参保登记"])
    kind: CaseKind = Field(description="Case kind (即办件, 承诺件 …).", examples=["promised"])
    department_code: str = Field(description="Department that decides this item by the catalogue.",
                                 examples=["medical_insurance"])
    channel: Channel = Field(description="How the case reached the centre.", examples=["window"])
    village_id: str | None = Field(default=None, description="Village point that took the case in, if any.", examples=[None])
    applicant_name: str = Field(description="Applicant's name.", examples=["张三"])
    applicant_id_masked: str = Field(description="Masked ID-card number; the full number never travels.",
                                     examples=["3301**********1234"])
    materials_provided: list[str] = Field(description="Codes of the materials handed in.", examples=[["id_card", "hukou"]])
    materials_tolerated_missing: list[str] = Field(
        default_factory=list, description="Tolerable materials accepted as missing (容缺受理), to be brought later.",
        examples=[[]])
    promised_limit_days: int = Field(ge=0, description="Promised limit in working days.", examples=[5])
    promised_deadline: AwareDatetime = _DEADLINE


class CaseSubmitted(Envelope):
    """A case was taken in at a window or a village point (受理)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["CaseSubmitted"] = "CaseSubmitted"
    payload: CaseSubmittedPayload


class CaseAssignedPayload(Payload):
    department_code: str = Field(description="Department the case is assigned to.", examples=["medical_insurance"])
    department_name: str = Field(description="Its name.", examples=["医保站"])
    staff_id: str | None = Field(default=None, description="Staff member assigned, if one is.", examples=["staff-0012"])
    promised_deadline: AwareDatetime = _DEADLINE


class CaseAssigned(Envelope):
    """A case was given to the department that decides it (分办)."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["CaseAssigned"] = "CaseAssigned"
    payload: CaseAssignedPayload


class CaseTransferredPayload(Payload):
    from_department_code: str = Field(description="Department that held the case.", examples=["medical_insurance"])
    to_department_code: str = Field(description="Department that now holds it.", examples=["social_security"])
    to_department_name: str = Field(description="Its name.", examples=["社保站"])
    reason: str = Field(min_length=1, max_length=500, description="Why it was passed on.", examples=["属社保业务"])
    transfer_count: int = Field(ge=1, description="How many times this case has been transferred so far.", examples=[1])


class CaseTransferred(Envelope):
    """A case was passed to another department (转办)."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["CaseTransferred"] = "CaseTransferred"
    payload: CaseTransferredPayload


class CaseCompletedPayload(Payload):
    department_code: str = Field(description="Department that decided.", examples=["medical_insurance"])
    result: CompletionResult = Field(description="Granted or refused.", examples=["granted"])
    note: str = Field(default="", max_length=1000, description="Reasons; for a refusal, the grounds and appeal rights.",
                      examples=["已办结，参保登记生效"])
    on_time: bool = Field(description="Completed by the promised deadline.", examples=[True])
    promised_deadline: AwareDatetime = _DEADLINE


class CaseCompleted(Envelope):
    """A case was decided and closed (办结)."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["CaseCompleted"] = "CaseCompleted"
    payload: CaseCompletedPayload


class DeadlineBreachedPayload(Payload):
    department_code: str = Field(description="Department holding the late case.", examples=["medical_insurance"])
    staff_id: str | None = Field(default=None, description="Staff member holding it, if any.", examples=["staff-0012"])
    promised_deadline: AwareDatetime = _DEADLINE
    detected_at: AwareDatetime = Field(description="When the breach was noticed, UTC.", examples=["2026-12-05T00:00:05Z"])


class DeadlineBreached(Envelope):
    """An open case passed its promised deadline (红灯 / 超期). Emitted once per case."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["DeadlineBreached"] = "DeadlineBreached"
    payload: DeadlineBreachedPayload


class CaseRatedPayload(Payload):
    score: int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.", examples=[5])
    comment: str = Field(default="", max_length=500, description="Resident's comment.", examples=["办事很快"])
    bad_rating: bool = Field(description="Score of 2 or less: a follow-up (回访) is owed.", examples=[False])


class CaseRated(Envelope):
    """The resident rated a completed case (好差评)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["CaseRated"] = "CaseRated"
    payload: CaseRatedPayload


class ContactErasedPayload(Payload):
    reason: str = Field(min_length=1, max_length=200, description="Why the contact was erased, as recorded by staff.",
                        examples=["申请人依《个人信息保护法》要求删除联系方式"])


class ContactErased(Envelope):
    """The resident's contact (phone number) was erased on their request (个人信息删除). The
    number is gone from every store and from the contact topic; the case history stays whole."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["ContactErased"] = "ContactErased"
    payload: ContactErasedPayload


class NotificationSentPayload(Payload):
    message_id: UUID = Field(description="Id of the SMS; also the provider's idempotency key.",
                             examples=["01936f6e-2222-7000-8000-000000000002"])
    recipient_kind: RecipientKind = Field(description="Resident or staff.", examples=["resident"])
    recipient_masked: str = Field(description="Masked phone number.", examples=["138****8000"])
    template_code: str = Field(description="Template the text was rendered from.", examples=["case_submitted"])
    trigger_event_id: UUID = Field(description="Event that caused the message.",
                                   examples=["01936f6e-1d2a-7c3b-9a4f-2b6c8d0e1f23"])
    provider: str = Field(description="SMS provider used.", examples=["dev"])
    provider_message_id: str = Field(description="Provider's receipt id.", examples=["dev-01936f6e"])


class NotificationSent(Envelope):
    """An SMS was handed to the provider."""

    TOPIC: ClassVar[str] = NOTIFY_CASES
    event_type: Literal["NotificationSent"] = "NotificationSent"
    payload: NotificationSentPayload


# Stream id of audit's checkpoints, in place of a case id:
# uuid5(NAMESPACE_URL, "bianmin-audit-chain") = aa7c9a79-1323-5da3-96a1-68d4b69826bd.
AUDIT_CHAIN_ID: UUID = uuid5(NAMESPACE_URL, "bianmin-audit-chain")
AUDIT_TOWNSHIP_ID = "county"  # the audit chain spans every township


class AuditCheckpointedPayload(Payload):
    head_seq: int = Field(ge=1, description="Seq of the newest audit record this checkpoint covers.", examples=[1842])
    head_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hash of that record: sha256, lower-case hex.",
                           examples=["9f2c4e0b7a1d3c5e8f6a2b4d0c1e3f5a7b9d2c4e6f8a0b1c3d5e7f9a2b4c6d8e"])
    records: int = Field(ge=1, description="Records in the audit log up to and including head_seq.", examples=[1842])
    previous_head_seq: int = Field(ge=0, description="head_seq of the previous checkpoint; 0 for the first.",
                                   examples=[1790])
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$",
                        description="First 16 hex digits of sha256 over the raw 32-byte Ed25519 public key.",
                        examples=["3b1f0c9e2d7a4f86"])
    signature: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$",
                           description="Base64 of the 64-byte Ed25519 signature over the checkpoint's canonical text "
                           "(docs/adr/0007-audit.md; services/audit/checkpoints.py signed_text).",
                           examples=["O7Eu2jwpjbXeJVl/VNkk8uF+eKJq2JU+2CGO5oLwu76QIeLzAJ0VLJEb8fJexoOpAnFBZnZ6+9jlvQ+wEk7Lig=="])


class AuditCheckpointed(Envelope):
    """Audit signed the head of its hash chain (审计链检查点). Inspectors keep these to detect a
    deleted tail or a rewritten log. case_id is AUDIT_CHAIN_ID, stream_version the checkpoint
    number (1, 2, 3 … without gaps), township_id "county"."""

    TOPIC: ClassVar[str] = AUDIT_CHECKPOINTS
    event_type: Literal["AuditCheckpointed"] = "AuditCheckpointed"
    case_id: UUID = Field(description="Always AUDIT_CHAIN_ID = uuid5(NAMESPACE_URL, 'bianmin-audit-chain').",
                          examples=[str(AUDIT_CHAIN_ID)])
    stream_version: int = Field(ge=1, description="Checkpoint number: 1, 2, 3 … without gaps.", examples=[7])
    township_id: str = Field(max_length=32, description="Always `county`: the chain spans every township.",
                             examples=[AUDIT_TOWNSHIP_ID])
    payload: AuditCheckpointedPayload


EVENT_TYPES: tuple[type[Envelope], ...] = (
    CaseSubmitted, CaseAssigned, CaseTransferred, CaseCompleted, DeadlineBreached, CaseRated, ContactErased,
    NotificationSent, AuditCheckpointed,
)
EVENTS_BY_NAME: dict[str, type[Envelope]] = {cls.model_fields["event_type"].default: cls for cls in EVENT_TYPES}


EVENTS_BY_TOPIC: dict[str, tuple[type[Envelope], ...]] = {
    topic: tuple(cls for cls in EVENT_TYPES if cls.TOPIC == topic) for topic in dict.fromkeys(c.TOPIC for c in EVENT_TYPES)
}


def event_type_name(cls: type[Envelope]) -> str:
    return cls.model_fields["event_type"].default


def parse_event(raw: bytes | str | dict) -> Envelope:
    """Parse any bianmin event by its `event_type`; raises ValueError on anything unreadable."""
    data = json.loads(raw) if isinstance(raw, (bytes, str)) else raw
    if not isinstance(data, dict):
        raise ValueError("event is not a JSON object")
    cls = EVENTS_BY_NAME.get(data.get("event_type", ""))
    if cls is None:
        raise ValueError(f"unknown event_type {data.get('event_type')!r}")
    return cls.model_validate(data)

