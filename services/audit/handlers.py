"""Audit's HTTP endpoints and its one Kafka subscriber: authorise, call a use case, answer."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from contracts.envelope import Envelope
from contracts.topics import EVENT_TOPICS
from services.audit import commands, store
from services.audit.domain import AuditRecord
from services.audit.schemas import (CaseHistoryView, ChainBreakView, FeedEntry, HistoryEvent, IntegrityReport,
                                    SourceGap, StreamGapView)
from services.kit.auth import CurrentPrincipal, require_role, require_township
from services.kit.service import Runtime

router = APIRouter(prefix="/api/v1", tags=["audit"])
HISTORY_READERS = ("inspector", "admin", "centre_head")  # centre_head for their own township only
LOG_READERS = ("inspector", "admin")


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


def _history_event(record: AuditRecord) -> HistoryEvent:
    envelope = json.loads(record.envelope)
    return HistoryEvent(seq=record.seq, event_id=record.event_id, event_type=record.event_type, source=record.source,
                        stream_version=record.stream_version, occurred_at=record.occurred_at, actor=envelope["actor"],
                        payload=envelope["payload"], trace_id=record.trace_id, hash=record.hash)


@router.get("/cases/{case_id}/history", response_model=CaseHistoryView,
            summary="A case's events in order, with lost stream versions (办件审计轨迹)")
async def get_history(case_id: UUID, request: Request, principal: CurrentPrincipal) -> CaseHistoryView:
    require_role(principal, *HISTORY_READERS)
    history = await commands.case_history(_rt(request).pool, case_id,
                                          may_see=lambda township: require_township(principal, township))
    return CaseHistoryView(case_id=case_id, township_id=history.records[0].township_id,
                           events=[_history_event(r) for r in history.records],
                           gaps=[SourceGap(source=s, missing=m) for s, m in history.gaps.items()])


def _integrity_report(result: commands.Integrity) -> IntegrityReport:
    chain, bad = result.chain, result.chain.first_bad
    empty = chain.records == 0
    return IntegrityReport(
        valid=bad is None, records=chain.records, head_seq=None if empty else chain.head_seq,
        head_hash=None if empty else chain.head_hash,
        first_bad=ChainBreakView(seq=bad.seq, event_id=bad.event_id, reason=bad.reason) if bad else None,
        stream_gaps=[StreamGapView(case_id=g.case_id, source=g.source, missing=g.missing) for g in result.stream_gaps],
        verified_at=result.verified_at,
    )


@router.get("/integrity", response_model=IntegrityReport, summary="Verify the whole hash chain (完整性核验)")
async def get_integrity(request: Request, principal: CurrentPrincipal) -> IntegrityReport:
    require_role(principal, *LOG_READERS)
    rt = _rt(request)
    return _integrity_report(await commands.verify_integrity(rt.pool, rt.clock, chunk=rt.settings.integrity_chunk))


@router.get("/events", response_model=list[FeedEntry], summary="The audit log in seq order, page by page")
async def get_events(request: Request, principal: CurrentPrincipal,
                     after_seq: Annotated[int, Query(ge=0, description="Return records after this seq.")] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> list[dict]:
    require_role(principal, *LOG_READERS)
    async with _rt(request).pool.acquire() as conn:
        return await store.feed(conn, after_seq=after_seq, limit=limit)


def subscribe(runtime: Runtime) -> None:
    async def record_event(conn, event: Envelope) -> None:
        await commands.record_event(conn, event, now=runtime.clock.now())

    runtime.inbox.subscribe(list(EVENT_TOPICS), record_event,
                            description="Appends every bianmin event to the append-only, hash-chained audit log.")
