"""Response bodies of audit's HTTP API; titles are the labels inspectors read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from contracts.envelope import Actor
from services.audit.domain import BreakReason, CheckpointProblem


class HistoryEvent(BaseModel):
    seq: int = Field(title="审计序号", description="Position in the audit log.")
    event_id: UUID = Field(title="事件编号")
    event_type: str = Field(title="事件类型", examples=["CaseSubmitted"])
    source: str = Field(title="来源服务", examples=["intake"])
    stream_version: int = Field(title="流版本号", description="1, 2, 3 … per case per source.")
    occurred_at: datetime = Field(title="发生时间")
    actor: Actor = Field(title="操作人")
    payload: dict[str, Any] = Field(title="事件内容", description="The event's payload.")
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


class CheckpointCheckView(BaseModel):
    seq: int = Field(title="检查点序号", description="head_seq of the checkpoint the inspector holds.")
    expected_hash: str = Field(title="检查点哈希", description="head_hash of that checkpoint.")
    found_hash: str | None = Field(title="当前记录哈希", description="Hash of the record at seq now; null if there is none.")
    matches: bool = Field(title="与检查点一致")
    problem: CheckpointProblem | None = Field(
        title="问题", description="tail_deleted: seq is beyond the head, records after it were deleted; "
        "record_missing: the record at seq was deleted; hash_mismatch: the log was rewritten.")
    message: str = Field(title="说明", examples=["检查点序号超出当前日志末尾：检查点之后的记录已被删除"])


class OpenGapView(BaseModel):
    case_id: UUID = Field(title="办件编号")
    source: str = Field(title="来源服务")
    version: int = Field(title="缺失的流版本号")
    detected_at: datetime = Field(title="发现时间")
    age_seconds: float = Field(title="已等待（秒）")
    overdue: bool = Field(title="超过宽限期", description="True: counted as lost, the log is not valid.")


class RefusedReplayView(BaseModel):
    event_id: UUID = Field(title="事件编号")
    topic: str = Field(title="主题")
    partition: int = Field(title="分区")
    offset: int = Field(title="偏移")
    received_at: datetime = Field(title="收到时间")
    stored_sha256: str = Field(title="已入档内容哈希")
    received_sha256: str = Field(title="收到内容哈希")


class IntegrityReport(BaseModel):
    valid: bool = Field(title="审计日志完整", description="Every record links to its predecessor and hashes right, "
                        "and, if a checkpoint was given, the log still holds it, and no stream gap is older than "
                        "the grace period. Younger gaps are listed in stream_gaps and open_gaps only.")
    records: int = Field(title="记录数")
    head_seq: int | None = Field(title="最新序号", description="Null while the log is empty.")
    head_hash: str | None = Field(title="最新哈希")
    first_bad: ChainBreakView | None = Field(title="首个异常记录")
    stream_gaps: list[StreamGapView] = Field(title="缺失事件",
                                             description="Lost stream versions, oldest streams first, at most 100.")
    verified_at: datetime = Field(title="核验时间")
    checkpoint: CheckpointCheckView | None = Field(
        default=None, title="检查点核对", description="Present when checkpoint_seq and checkpoint_hash were given.")
    open_gaps: list[OpenGapView] = Field(default_factory=list, title="未到达的事件",
                                         description="Open stream gaps, oldest first, at most 100, with their age.")
    open_gap_count: int = Field(default=0, title="缺失事件数")
    overdue_gap_count: int = Field(default=0, title="超过宽限期的缺失事件数", description="Gaps open longer than "
                                   "gap_grace_seconds: lost events. Any makes `valid` false.")
    gap_grace_seconds: float = Field(default=3600.0, title="缺失事件宽限期（秒）", description="AUDIT_GAP_GRACE_SECONDS.")
    refused_replays: int = Field(default=0, title="已拒绝的伪造重放", description="Events refused because their "
                                 "event_id was already logged with other content. An attack on the log, refused "
                                 "before it changed anything: reported, but it does not make `valid` false.")
    latest_refused_replay: RefusedReplayView | None = Field(default=None, title="最近一次拒绝的重放")
    problems: list[str] = Field(default_factory=list, title="问题说明", description="Why `valid` is false, in Chinese.",
                                examples=[["有缺失事件超过宽限期仍未到达：事件已丢失，审计日志不完整"]])


class SigningKeyView(BaseModel):
    algorithm: str = Field(title="签名算法", examples=["Ed25519"])
    key_id: str = Field(title="密钥标识", description="First 16 hex of sha256 over the raw public key.",
                        examples=["3b1f0c9e2d7a4f86"])
    public_key_pem: str = Field(title="公钥", description="SubjectPublicKeyInfo PEM. Pin it out-of-band: a key "
                                "fetched from the service being checked proves nothing on its own.")


class FeedEntry(BaseModel):
    """One audit record with what a client needs to recompute the chain without trusting the
    server: hash = sha256_hex(prev_hash + hashed_text), prev_hash of seq 1 = 64 zeros
    (README, "Checking the audit chain yourself")."""

    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    event_type: str = Field(title="事件类型")
    case_id: UUID = Field(title="办件编号")
    township_id: str = Field(title="乡镇")
    source: str = Field(title="来源服务")
    stream_version: int = Field(title="流版本号")
    topic: str = Field(title="主题")
    occurred_at: datetime = Field(title="发生时间")
    recorded_at: datetime = Field(title="入档时间")
    trace_id: str | None = Field(title="链路追踪编号")
    envelope: str = Field(title="事件原文", description="The canonical envelope JSON that was hashed.")
    hashed_text: str = Field(title="哈希原文", description="Canonical JSON (sorted keys, no spaces, UTF-8) of seq, "
                             "event_id, topic, event_type, case_id, township_id, source, stream_version, occurred_at, "
                             "recorded_at (ISO 8601 UTC, microseconds), trace_id and envelope: exactly what was hashed.")
    prev_hash: str = Field(title="前一记录哈希", examples=["0" * 64])
    hash: str = Field(title="记录哈希")
