"""The accountability ledger (责任追究台账): what followed a finding, recorded by an inspector against evidence
in the log, and appended as AccountabilityRecorded on audit's own stream, so it is chained like everything else.

Only inspectors record: the ledger is a disciplinary decision of the 纪检监察 organ; admins keep the system
running and must not be able to write what is held against staff.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, NewEvent
from contracts.errors import DomainError
from contracts.inspection_events import (
    AccountabilityRecorded,
    AccountabilityRecordedPayload,
    ledger_stream_id,
)
from contracts.workdays import SHANGHAI
from services.audit import ledger_store
from services.audit.domain import HistoryNotFound
from services.kit import eventstore


class EvidenceNotInLog(DomainError):
    status, code, message = 422, "EVIDENCE_NOT_IN_LOG", "所列证据事件不在审计日志中"


class DecidedInFuture(DomainError):
    status, code, message = 422, "DECIDED_ON_IN_FUTURE", "处理决定日期不能晚于今天"


class CaseOfAnotherTownship(DomainError):
    status, code, message = 422, "CASE_TOWNSHIP_MISMATCH", "所涉办件不属于所填乡镇"


class EvidenceRequired(DomainError):
    status, code, message = 422, "EVIDENCE_REQUIRED", "责任追究须至少列明一项审计日志中的证据事件"


class IdempotencyKeyReused(DomainError):
    status, code, message = 422, "IDEMPOTENCY_KEY_REUSED", "同一 Idempotency-Key 已用于内容不同的另一次登记"


@dataclass(frozen=True)
class Entry:
    """A ledger entry as the inspector gives it."""

    township_id: str
    case_id: UUID | None
    payload: AccountabilityRecordedPayload


def check_entry(entry: Entry, *, found_evidence: Iterable[UUID], today: date) -> None:
    """The rules of an entry, given which of its evidence events the log holds."""
    wanted = entry.payload.evidence_event_ids
    if not wanted:
        raise EvidenceRequired()
    missing = [str(e) for e in wanted if e not in set(found_evidence)]
    if missing:
        raise EvidenceNotInLog(details={"missing": missing})
    if entry.payload.decided_on > today:
        raise DecidedInFuture()


def stream_of(entry: Entry) -> UUID:
    """The case's own audit stream, or the township's ledger stream for a finding about no single case."""
    return entry.case_id or ledger_stream_id(entry.township_id)


@dataclass(frozen=True)
class Recorded:
    event_id: UUID
    case_id: UUID
    stream_version: int
    replayed: bool = False


async def record(pool: asyncpg.Pool, entry: Entry, *, actor: Actor, now: datetime, idempotency_key: str | None = None,
                 request_hash: str = "") -> Recorded:
    async with pool.acquire() as conn, conn.transaction():
        if idempotency_key:
            earlier = await ledger_store.find_request(conn, actor_id=actor.id, key=idempotency_key)
            if earlier is not None:
                if earlier["request_hash"] != request_hash:
                    raise IdempotencyKeyReused()
                return Recorded(**await ledger_store.event_of(conn, earlier["event_id"]), replayed=True)
        if entry.case_id is not None:
            townships = await ledger_store.case_townships(conn, entry.case_id)
            if not townships:
                raise HistoryNotFound()
            if entry.township_id not in townships:
                raise CaseOfAnotherTownship()
        found = await ledger_store.existing_events(conn, entry.payload.evidence_event_ids)
        check_entry(entry, found_evidence=found, today=now.astimezone(SHANGHAI).date())
        [event] = await eventstore.append(
            conn, source="audit", case_id=stream_of(entry), township_id=entry.township_id,
            origin=eventstore.Origin(actor=actor), events=[NewEvent(AccountabilityRecorded, entry.payload)], now=now)
        if idempotency_key:
            await ledger_store.remember_request(conn, actor_id=actor.id, key=idempotency_key,
                                                request_hash=request_hash, event_id=event.event_id, at=now)
    return Recorded(event_id=event.event_id, case_id=event.case_id, stream_version=event.stream_version)


