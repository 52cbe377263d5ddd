"""Audit's HTTP endpoints and its one Kafka subscriber: authorise, call a use case, answer."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES
from contracts.topics import EVENT_TOPICS
from services.audit import batch_append, checkpoints, commands, gaps, replays, store
from services.audit.deps import AuditRuntime
from services.audit.domain import AuditRecord, canonical_json, hashed_fields
from services.audit.metrics import record_checkpoint_refused
from services.audit.schemas import (
    CaseHistoryView,
    ChainBreakView,
    CheckpointCheckView,
    FeedEntry,
    HistoryEvent,
    IntegrityReport,
    OpenGapView,
    RefusedReplayView,
    SigningKeyView,
    SourceGap,
    StreamGapView,
)
from services.kit.access import Grant, permit
from services.kit.errors import ApiError, error_responses
from services.kit.fields import PG_BIGINT_MAX
from services.kit.inbox import Delivery
from services.kit.loops import Backoff, run_forever
from services.kit.telemetry import trace_id_of

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["audit"])


def _rt(request: Request) -> AuditRuntime:
    return request.app.state.runtime


def _history_event(record: AuditRecord) -> HistoryEvent:
    envelope = json.loads(record.envelope)
    return HistoryEvent(seq=record.seq, event_id=record.event_id, event_type=record.event_type, source=record.source,
                        stream_version=record.stream_version, occurred_at=record.occurred_at, actor=envelope["actor"],
                        payload=envelope["payload"], trace_id=record.trace_id, hash=record.hash)


@router.get("/cases/{case_id}/history", response_model=CaseHistoryView,
            summary="A case's events in order, with lost stream versions (办件审计轨迹)",
            responses=error_responses(401, 403, 404, 422))
async def get_history(case_id: UUID, request: Request,
                      grant: Annotated[Grant, Depends(permit("audit.case_history"))]) -> CaseHistoryView:
    rt = _rt(request)
    history = await commands.case_history(rt.pool, case_id, grant=grant, query="case_history",
                                          parameters={"case_id": case_id}, now=rt.clock.now())
    return CaseHistoryView(case_id=case_id, township_id=history.records[0].township_id,
                           events=[_history_event(r) for r in history.records],
                           gaps=[SourceGap(source=s, missing=m) for s, m in history.gaps.items()])


def _integrity_report(result: commands.Integrity) -> IntegrityReport:
    chain, bad, check = result.chain, result.chain.first_bad, result.checkpoint
    empty = chain.records == 0
    problems = _integrity_problems(result)
    return IntegrityReport(
        valid=not problems, problems=problems, **_gap_and_replay_fields(result), records=chain.records,
        head_seq=None if empty else chain.head_seq,
        head_hash=None if empty else chain.head_hash,
        first_bad=ChainBreakView(seq=bad.seq, event_id=bad.event_id, reason=bad.reason) if bad else None,
        stream_gaps=[StreamGapView(case_id=g.case_id, source=g.source, missing=g.missing) for g in result.stream_gaps],
        verified_at=result.verified_at,
        checkpoint=CheckpointCheckView(seq=check.seq, expected_hash=check.expected_hash, found_hash=check.found_hash,
                                       matches=check.matches, problem=check.problem, message=check.message)
        if check else None,
    )


def _integrity_problems(result: commands.Integrity) -> list[str]:
    """Why the log is not valid, in Chinese; empty when it is."""
    problems = []
    if bad := result.chain.first_bad:
        problems.append(f"哈希链在序号 {bad.seq} 处断裂（{bad.reason}）")
    if result.checkpoint and not result.checkpoint.matches:
        problems.append(result.checkpoint.message)
    if result.overdue_gap_count:
        problems.append(f"{gaps.OVERDUE_MESSAGE}（{result.overdue_gap_count} 个）")
    return problems


def _gap_and_replay_fields(result: commands.Integrity) -> dict[str, Any]:
    now, latest = result.verified_at, result.latest_refused_replay
    return {
        "open_gaps": [OpenGapView(case_id=g.case_id, source=g.source, version=g.version, detected_at=g.detected_at,
                                  age_seconds=gaps.age(g, now).total_seconds(),
                                  overdue=gaps.is_overdue(g, now=now, grace=result.grace)) for g in result.open_gaps],
        "open_gap_count": result.open_gap_count, "overdue_gap_count": result.overdue_gap_count,
        "gap_grace_seconds": result.grace.total_seconds(), "refused_replays": result.refused_replays,
        "latest_refused_replay": RefusedReplayView(
            event_id=latest.event_id, topic=latest.topic, partition=latest.partition, offset=latest.offset,
            received_at=latest.received_at, stored_sha256=latest.stored_sha256,
            received_sha256=latest.received_sha256) if latest else None,
    }


def _held(seq: int | None, hash_: str | None) -> commands.HeldCheckpoint | None:
    if (seq is None) != (hash_ is None):
        raise ApiError(422, "CHECKPOINT_INCOMPLETE", "核对检查点须同时提供 checkpoint_seq 和 checkpoint_hash")
    return commands.HeldCheckpoint(seq=seq, hash=hash_) if seq is not None and hash_ is not None else None


@router.get("/integrity", response_model=IntegrityReport,
            summary="Verify the whole hash chain, optionally against a signed checkpoint (完整性核验)",
            responses=error_responses(401, 403, 422))
async def get_integrity(
    request: Request, _: Annotated[Grant, Depends(permit("audit.integrity"))],
    checkpoint_seq: Annotated[int | None, Query(ge=1, le=PG_BIGINT_MAX,
                                                description="head_seq of a checkpoint you hold.")] = None,
    checkpoint_hash: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$",
                                                 description="head_hash of that checkpoint.")] = None,
) -> IntegrityReport:
    rt, held = _rt(request), _held(checkpoint_seq, checkpoint_hash)
    return _integrity_report(await commands.verify_integrity(
        rt.pool, rt.clock, chunk=rt.settings.integrity_chunk, held=held,
        grace=timedelta(seconds=rt.settings.gap_grace_seconds)))


@router.get("/checkpoints/public-key", response_model=SigningKeyView,
            summary="The public key that checkpoints are signed with (检查点验签公钥)", responses=error_responses(401, 403))
async def get_public_key(request: Request,
                         _: Annotated[Grant, Depends(permit("audit.public_key"))]) -> SigningKeyView:
    key = _rt(request).deps.signing_key
    assert key is not None, "the signing key is loaded at start"
    public_key = key.public_key()
    return SigningKeyView(algorithm="Ed25519", key_id=checkpoints.key_id(public_key),
                          public_key_pem=checkpoints.public_pem(public_key))


@router.get("/events", response_model=list[FeedEntry],
            summary="The audit log in seq order, page by page, with what recomputing its hash chain needs",
            responses=error_responses(401, 403, 422))
async def get_events(request: Request, _: Annotated[Grant, Depends(permit("audit.events"))],
                     after_seq: Annotated[int, Query(ge=0, le=PG_BIGINT_MAX, description="Return records after this seq.")] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> list[FeedEntry]:
    async with _rt(request).pool.acquire() as conn:
        records = await store.feed(conn, after_seq=after_seq, limit=limit)
    return [_feed_entry(r) for r in records]


def _feed_entry(record: AuditRecord) -> FeedEntry:
    fields = {k: v for k, v in vars(record).items() if k in FeedEntry.model_fields}
    return FeedEntry(**fields, hashed_text=canonical_json(hashed_fields(record)))


async def publish_checkpoints(runtime: AuditRuntime) -> None:
    """Every AUDIT_CHECKPOINT_SECONDS, sign and append a checkpoint if the chain head moved; a
    failure is retried by the loop."""
    period = runtime.settings.checkpoint_seconds

    async def checkpoint_round() -> bool:
        await _checkpoint_once(runtime)
        return False

    # The first checkpoint one period after start, like every other: a restarted instance does not
    # sign at once what another may be signing.
    await asyncio.sleep(period)
    await run_forever("audit-checkpointer", checkpoint_round, interval=period,
                      backoff=Backoff(first=period, max=max(period, 60.0)), service=runtime.name)


async def _checkpoint_once(runtime: AuditRuntime) -> None:
    """A refusal stays an error until the chain is repaired: counted, logged, never signed."""
    stats, key = runtime.deps.checkpoints, runtime.deps.signing_key
    assert key is not None, "the signing key is loaded at start"
    try:
        event = await commands.append_checkpoint(runtime.pool, key, now=runtime.clock.now(),
                                                 chunk=runtime.settings.integrity_chunk)
    except checkpoints.CheckpointRefused as refused:
        stats.refused = refused
        record_checkpoint_refused(True)
        log.error("audit chain does not extend the last checkpoint; not signing", extra=refused.details)
        return
    record_checkpoint_refused(False)
    if event:
        stats.appended, stats.last = stats.appended + 1, event
        log.info("audit checkpoint appended", extra={"checkpoint": event.stream_version,
                                                     "head_seq": event.payload.head_seq})


def batch_recorder(runtime: AuditRuntime) -> Callable[[asyncpg.Connection, list[tuple[Delivery, Envelope]]],
                                                       Awaitable[None]]:
    """The inbox's batch handler (apply_batch): the batch's fresh events, in offset order, appended in
    the inbox's transaction with a handful of statements (batch_append, ADR 40)."""

    async def record_batch(conn: asyncpg.Connection, items: list[tuple[Delivery, Envelope]]) -> None:
        # Each record carries its own producer's trace (the message's traceparent), not the batch's span.
        await batch_append.record_events(
            conn, [batch_append.Item(event, trace_id_of(delivery.traceparent)) for delivery, event in items],
            now=runtime.clock.now())

    return record_batch


def subscribe(runtime: AuditRuntime) -> None:
    async def record_event(conn, event: Envelope) -> None:
        await commands.record_event(conn, event, now=runtime.clock.now())

    async def refuse_forged(conn, event: Envelope, delivery: Delivery) -> None:
        await replays.check_duplicate(conn, event, delivery, now=runtime.clock.now())

    runtime.inbox.subscribe(EVENT_TOPICS, dict.fromkeys(EVENT_TYPES, record_event), start="earliest",
                            description="Appends every bianmin event to the append-only, hash-chained audit log.",
                            on_duplicate=refuse_forged, apply_batch=batch_recorder(runtime))
