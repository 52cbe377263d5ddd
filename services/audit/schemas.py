"""Response bodies of audit's HTTP API; titles are the labels inspectors read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from contracts.envelope import Actor
from services.audit.domain import BreakReason


class HistoryEvent(BaseModel):
    seq: int = Field(title="审计序号", description="Position in the audit log.")
    event_id: UUID = Field(title="事件编号")
    event_type: str = Field(title="事件类型", examples=["CaseSubmitted"])
    source: str = Field(title="来源服务", examples=["intake"])
    stream_version: int = Field(title="流版本号", description="1, 2, 3 … per case per source.")
    occurred_at: datetime = Field(title="发生时间")
    actor: Actor = Field(title="操作人")
    payload: dict[str, Any] = Field(title="事件内容", description="The event's payload; phone numbers masked.")
    trace_id: str | None = Field(title="链路追踪编号", description="W3C trace id of the flow that produced the event.")
    hash: str = Field(title="记录哈希", description="sha256 of this audit record, chained to the previous one.")


class SourceGap(BaseModel):
    source: str = Field(title="来源服务", examples=["routing"])
    missing: list[int] = Field(title="缺失的流版本号", description="Versions never received: lost events.",
                               examples=[[2]])


class CaseHistoryView(BaseModel):
    case_id: UUID = Field(title="办件编号")
    township_id: str = Field(title="乡镇", examples=["qingshui"])
    events: list[HistoryEvent] = Field(title="事件记录", description="In order of occurred_at, then seq.")
    gaps: list[SourceGap] = Field(title="缺失事件", description="Per source, versions missing below the highest seen.")


class ChainBreakView(BaseModel):
    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    reason: BreakReason = Field(title="原因", description="hash_mismatch: the row was changed; prev_hash_mismatch: "
                                "its predecessor was changed, removed or replaced; seq_gap: rows before it were deleted.")


class StreamGapView(BaseModel):
    case_id: UUID = Field(title="办件编号")
    source: str = Field(title="来源服务")
    missing: list[int] = Field(title="缺失的流版本号")


class IntegrityReport(BaseModel):
    valid: bool = Field(title="哈希链完整", description="Every record links to its predecessor and hashes right. "
                        "Lost stream versions are listed in stream_gaps and do not make the chain invalid.")
    records: int = Field(title="记录数")
    head_seq: int | None = Field(title="最新序号", description="Null while the log is empty.")
    head_hash: str | None = Field(title="最新哈希")
    first_bad: ChainBreakView | None = Field(title="首个异常记录")
    stream_gaps: list[StreamGapView] = Field(title="缺失事件",
                                             description="Lost stream versions, oldest streams first, at most 100.")
    verified_at: datetime = Field(title="核验时间")


class FeedEntry(BaseModel):
    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    event_type: str = Field(title="事件类型")
    case_id: UUID = Field(title="办件编号")
    source: str = Field(title="来源服务")
    occurred_at: datetime = Field(title="发生时间")
    recorded_at: datetime = Field(title="入档时间")
