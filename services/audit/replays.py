"""Forged or replayed events: a known event_id that comes again. The same content is a redelivery
and stays a quiet no-op; other content is an attempt to rewrite history through the topic. It is
refused (the log keeps the first version), kept in replays_refused, counted, logged and reported
by /api/v1/integrity; never dead-lettered, and the partition moves on."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Envelope
from services.audit.domain import audit_envelope
from services.audit.metrics import record_replay_refused
from services.kit.inbox import Delivery

log = logging.getLogger(__name__)

TEXT_CAP = 16 * 1024  # characters of the received envelope kept: enough to read it, not a way to fill the disk


@dataclass(frozen=True)
class RefusedReplay:
    event_id: UUID
    topic: str
    partition: int
    offset: int
    received_at: datetime
    stored_sha256: str
    received_sha256: str
    received_text: str


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def check_duplicate(conn: asyncpg.Connection, event: Envelope, delivery: Delivery, *, now: datetime) -> bool:
    """Called for an event_id already seen; True (and recorded) when its content differs from the log's."""
    stored = await conn.fetchval("SELECT envelope FROM audit_log WHERE event_id = $1", event.event_id)
    received = audit_envelope(event)
    if stored is None or stored == received:
        return False  # a redelivery; or a row lost from the log, which the chain and reconciliation report
    refused = RefusedReplay(event_id=event.event_id, topic=delivery.topic, partition=delivery.partition,
                            offset=delivery.offset, received_at=now, stored_sha256=sha256_hex(stored),
                            received_sha256=sha256_hex(received), received_text=received[:TEXT_CAP])
    fresh = await conn.fetchval(
        'INSERT INTO replays_refused (event_id, topic, partition, "offset", received_at, stored_sha256,'
        " received_sha256, received_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ' ON CONFLICT (topic, partition, "offset") DO NOTHING RETURNING true',
        refused.event_id, refused.topic, refused.partition, refused.offset, refused.received_at,
        refused.stored_sha256, refused.received_sha256, refused.received_text)
    if fresh:
        record_replay_refused()
        log.error("forged replay refused: a known event_id with other content", extra={
            "event_id": str(event.event_id), "topic": delivery.topic, "partition": delivery.partition,
            "offset": delivery.offset, "stored_sha256": refused.stored_sha256,
            "received_sha256": refused.received_sha256})
    return True


async def summary(conn: asyncpg.Connection) -> tuple[int, RefusedReplay | None]:
    """How many replays were refused, and the latest."""
    count = await conn.fetchval("SELECT count(*) FROM replays_refused")
    row = await conn.fetchrow('SELECT event_id, topic, partition, "offset", received_at, stored_sha256,'
                              " received_sha256, received_text FROM replays_refused ORDER BY id DESC LIMIT 1")
    return count, RefusedReplay(**dict(row)) if row else None
