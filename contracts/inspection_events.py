"""Audit's inspection stream (bianmin.audit.inspections.v1): what inspectors looked at, and what followed.

Both are audit's own events: appended to audit's outbox, published, and read back into the hash chain
like every other event, so the record of who looked at which cases, and the accountability ledger
(责任追究台账), are as tamper-evident as the cases themselves.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from contracts.envelope import Envelope, Payload
from contracts.topics import AUDIT_INSPECTIONS

# Stream of the access record, in place of a case id: every query is one event on it.
ACCESS_LOG_ID: UUID = uuid5(NAMESPACE_URL, "bianmin-audit-access-log")
MAX_QUERY_CASES = 500  # case ids named in one access record; `result_count` says how many there were

AccountabilityMeasure = Literal["warning", "circulated_criticism", "admonition_talk", "subsidy_deduction", "other"]
# 警告提示, 通报批评, 诫勉谈话, 扣减补助, 其他
MEASURE_LABELS: dict[str, str] = {
    "warning": "警告提示", "circulated_criticism": "通报批评", "admonition_talk": "诫勉谈话",
    "subsidy_deduction": "扣减补助", "other": "其他处理",
}


def ledger_stream_id(township_id: str) -> UUID:
    """The accountability stream of a township, for a finding about no single case."""
    return uuid5(NAMESPACE_URL, f"bianmin-accountability:{township_id}")


class AuditQueriedPayload(Payload):
    query: str = Field(max_length=64, description="What was asked: the name of the query or export.",
                       examples=["case_timeline"])
    parameters: dict[str, str] = Field(default_factory=dict, max_length=32,
                                       description="The query's parameters as given (each value at most 200 characters).",
                                       examples=[{"township_id": "qingshui", "from": "2026-11-01"}])
    viewer_township_id: str | None = Field(default=None, max_length=32,
                                           description="The viewer's own township; none for county-wide roles.",
                                           examples=["qingshui"])
    case_ids: list[UUID] = Field(default_factory=list, max_length=MAX_QUERY_CASES,
                                 description="Cases whose records were shown (the first MAX_QUERY_CASES).",
                                 examples=[["0190c1d2-7a3b-7c4d-8e5f-6a7b8c9d0e1f"]])
    result_count: int = Field(ge=0, description="How many rows the answer held in all.", examples=[1])


class AuditQueried(Envelope):
    """Someone read the audit log (查询留痕): who (the actor), what, which cases. case_id is ACCESS_LOG_ID,
    township_id the township asked about, or `county`."""

    TOPIC: ClassVar[str] = AUDIT_INSPECTIONS
    event_type: Literal["AuditQueried"] = "AuditQueried"
    payload: AuditQueriedPayload


class AccountabilityRecordedPayload(Payload):
    finding: str = Field(max_length=64, description="The anomaly or finding this follows, by its stable code.",
                         examples=["overdue_case"])
    measure: AccountabilityMeasure = Field(description="What followed: 警告提示, 通报批评, 诫勉谈话, 扣减补助 or other.",
                                           examples=["admonition_talk"])
    staff_id: str | None = Field(default=None, max_length=64, description="The staff member it concerns, if one.",
                                 examples=["qs-social_security-01"])
    description: str = Field(max_length=2000, description="The finding and the decision, in the inspector's words.",
                             examples=["该件超期 3 个工作日，经核实系承办人无故拖延"])
    evidence_event_ids: list[UUID] = Field(default_factory=list, max_length=200,
                                           description="Events in the audit log the finding rests on.",
                                           examples=[["0190c1d2-7a3b-7c4d-8e5f-6a7b8c9d0e1f"]])
    decided_on: date = Field(description="The date of the decision (Asia/Shanghai).", examples=["2026-11-24"])


class AccountabilityRecorded(Envelope):
    """An inspector recorded what followed a finding (责任追究台账). case_id is the case it concerns, or
    ledger_stream_id(township_id) for a finding about no single case."""

    TOPIC: ClassVar[str] = AUDIT_INSPECTIONS
    event_type: Literal["AccountabilityRecorded"] = "AccountabilityRecorded"
    payload: AccountabilityRecordedPayload


INSPECTION_EVENT_TYPES: tuple[type[Envelope], ...] = (AuditQueried, AccountabilityRecorded)
