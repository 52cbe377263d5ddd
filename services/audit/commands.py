"""Audit's use cases: append an event to the chain, read a case's history, verify the whole log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Envelope
from services.audit import domain, store
from services.kit.clock import Clock
from services.kit.telemetry import current_traceparent, trace_id_of

GAP_REPORT_LIMIT = 100


@dataclass(frozen=True)
class CaseHistory:
    records: list[domain.AuditRecord]
    gaps: dict[str, list[int]]


@dataclass(frozen=True)
class Integrity:
    chain: domain.ChainState
    stream_gaps: list[domain.StreamGap]
    verified_at: datetime


async def record_event(conn: asyncpg.Connection, event: Envelope, *, now: datetime) -> None:
    """Append one event inside the inbox's transaction.

    The trace id is the current span's: the Kafka telemetry middleware continues the
    producer's trace from the message's traceparent header.
    """
    await store.lock_log(conn)
    seq, prev_hash = await store.head(conn)
    record = domain.new_record(event, topic=type(event).TOPIC, seq=seq + 1, prev_hash=prev_hash, recorded_at=now,
                               trace_id=trace_id_of(current_traceparent()))
    await store.insert_record(conn, record)


async def case_history(pool: asyncpg.Pool, case_id: UUID, *, may_see: Callable[[str], None]) -> CaseHistory:
    async with pool.acquire() as conn:
        records = await store.case_records(conn, case_id)
    if not records:
        raise domain.HistoryNotFound()
    for township_id in sorted({r.township_id for r in records}):
        may_see(township_id)
    return CaseHistory(records=records, gaps=domain.stream_gaps((r.source, r.stream_version) for r in records))


async def verify_integrity(pool: asyncpg.Pool, clock: Clock, *, chunk: int) -> Integrity:
    """Walk the whole chain in seq order, a chunk at a time, and list the first lost stream versions.

    One repeatable-read snapshot, so the chain and the gaps describe the same log.
    """
    state = domain.ChainState()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        async for records in store.record_chunks(conn, size=chunk):
            state = domain.verify_chain(records, state)
        streams = await store.gapped_streams(conn, limit=GAP_REPORT_LIMIT)
    gaps = [domain.StreamGap(case_id=s["case_id"], source=s["source"], missing=domain.missing_versions(s["versions"]))
            for s in streams]
    return Integrity(chain=state, stream_gaps=gaps, verified_at=clock.now())
