"""Audit's use cases: append an event to the chain, read a case's history, verify the whole log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.envelope import Actor, Envelope, NewEvent
from contracts.events import AUDIT_CHAIN_ID, AUDIT_TOWNSHIP_ID, AuditCheckpointed
from services.audit import (
    access_log,
    checkpoints,
    domain,
    gaps,
    hall_figures_store,
    merkle_store,
    read_model_store,
    replays,
    store,
)
from services.kit import eventstore
from services.kit.access import Grant
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
    checkpoint: domain.CheckpointCheck | None = None
    open_gaps: list[gaps.OpenGap] = field(default_factory=list)  # oldest first, at most GAP_REPORT_LIMIT
    open_gap_count: int = 0
    overdue_gap_count: int = 0  # open longer than the grace: lost events, the log is not complete
    grace: timedelta = timedelta(hours=1)
    refused_replays: int = 0
    latest_refused_replay: replays.RefusedReplay | None = None


@dataclass(frozen=True)
class HeldCheckpoint:
    """A checkpoint an inspector kept: the chain up to `seq` ended in `hash`."""

    seq: int
    hash: str


async def record_event(conn: asyncpg.Connection, event: Envelope, *, now: datetime) -> bool:
    """Append one event inside the inbox's transaction; False when its event_id is already logged.

    The trace id is the current span's: the Kafka telemetry middleware continues the
    producer's trace from the message's traceparent header.
    """
    await store.lock_log(conn)
    seq, prev_hash = await store.head(conn)
    record = domain.new_record(event, topic=type(event).TOPIC, seq=seq + 1, prev_hash=prev_hash, recorded_at=now,
                               trace_id=trace_id_of(current_traceparent()))
    if not await store.insert_record(conn, record):
        return False
    await merkle_store.append_record(conn, record)
    await gaps.track(conn, event_id=event.event_id, case_id=event.case_id, source=event.source,
                     version=event.stream_version, now=now)
    await read_model_store.follow(conn, record)  # same transaction: no record without its facts
    await hall_figures_store.project(conn, event)  # the hall's visits, in step with the chain
    return True


async def case_history(pool: asyncpg.Pool, case_id: UUID, *, grant: Grant, query: str,
                       parameters: Mapping[str, object], now: datetime) -> CaseHistory:
    """The case's records, once the caller may see each township they are of; the read is recorded
    (access_log) in the same transaction, so no answer leaves without its record."""
    async with pool.acquire() as conn, conn.transaction():
        records = await store.case_records(conn, case_id)
        if not records:
            raise domain.HistoryNotFound()
        for township_id in sorted({r.township_id for r in records}):
            grant.township(township_id)
        await access_log.record_query(conn, viewer=grant.principal, query=query, parameters=parameters,
                                      case_ids=[case_id], result_count=len(records),
                                      township_id=records[0].township_id, now=now)
    return CaseHistory(records=records, gaps=domain.stream_gaps((r.source, r.stream_version) for r in records))


async def verify_integrity(pool: asyncpg.Pool, clock: Clock, *, chunk: int,
                           held: HeldCheckpoint | None = None, grace: timedelta = timedelta(hours=1)) -> Integrity:
    """Walk the whole chain in seq order, a chunk at a time, list the open stream gaps (lost
    events), the refused replays, and hold the log against the inspector's checkpoint, if one is given.

    One repeatable-read snapshot, so the chain, the gaps and the checkpoint describe the same log.
    """
    state = domain.ChainState()
    check = None
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        async for records in store.record_chunks(conn, size=chunk):
            state = domain.verify_chain(records, state)
        open_gaps = await gaps.open_gaps(conn, limit=GAP_REPORT_LIMIT)
        gap_count, overdue = await gaps.counts(conn, overdue_before=now - grace)
        refused, latest_refused = await replays.summary(conn)
        if held:
            check = domain.check_checkpoint(seq=held.seq, expected_hash=held.hash,
                                            found_hash=await store.hash_at(conn, held.seq), head_seq=state.head_seq)
    by_stream: dict[tuple[UUID, str], list[int]] = {}
    for gap in open_gaps:
        by_stream.setdefault((gap.case_id, gap.source), []).append(gap.version)
    return Integrity(chain=state, verified_at=now, checkpoint=check,
                     stream_gaps=[domain.StreamGap(case_id=c, source=s, missing=sorted(m))
                                  for (c, s), m in by_stream.items()],
                     open_gaps=open_gaps, open_gap_count=gap_count, overdue_gap_count=overdue, grace=grace,
                     refused_replays=refused, latest_refused_replay=latest_refused)


@dataclass
class CheckpointStats:
    """What this process's checkpointer did; on runtime.deps.checkpoints."""

    appended: int = 0
    last: AuditCheckpointed | None = None
    refused: checkpoints.CheckpointRefused | None = None


async def append_checkpoint(pool: asyncpg.Pool, key: Ed25519PrivateKey, *, now: datetime,
                            chunk: int) -> AuditCheckpointed | None:
    """Sign the chain head and append it as audit's own event, which the relay publishes; None
    when only checkpoints arrived since the last one.

    Only the records after the last checkpoint are verified, and they must extend it: a chain
    that was cut or rewritten below it raises CheckpointRefused instead of being signed.
    """
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        await store.lock_checkpoints(conn)
        last_event = await store.last_checkpoint(conn)
        last = checkpoints.head_of(last_event) if last_event else None
        if last:
            await _still_holds(conn, last)
        progress = checkpoints.start_from(last)
        async for records in store.record_chunks(conn, size=chunk, after_seq=last.head_seq if last else 0):
            progress = checkpoints.advance(progress, records)
            await merkle_store.check_leaves(conn, records)
        head = checkpoints.next_head(last, progress)
        await merkle_store.check_tree(conn, last, progress.chain.head_seq)
        if head is None:
            return None
        head = await merkle_store.with_root(conn, head)
        [event] = await eventstore.append(
            conn, source="audit", case_id=AUDIT_CHAIN_ID, township_id=AUDIT_TOWNSHIP_ID,
            origin=eventstore.Origin(actor=Actor(kind="system", id="audit")),
            events=[NewEvent(AuditCheckpointed, checkpoints.sign(key, head))], now=now)
        if event.stream_version != head.number:
            raise RuntimeError(f"checkpoint numbered {event.stream_version}, signed as {head.number}")
    assert isinstance(event, AuditCheckpointed)
    return event


async def _still_holds(conn: asyncpg.Connection, last: checkpoints.Head) -> None:
    head_seq, _ = await store.head(conn)
    check = domain.check_checkpoint(seq=last.head_seq, expected_hash=last.head_hash,
                                    found_hash=await store.hash_at(conn, last.head_seq), head_seq=head_seq)
    if not check.matches:
        raise checkpoints.CheckpointRefused(details={"seq": last.head_seq, "reason": check.problem})
