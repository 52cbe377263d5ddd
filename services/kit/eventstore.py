"""Appending a case's events to the service's own stream (which is also its outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, NewEvent, Source, new_event_id
from contracts.events import event_type_name, parse_event
from services.kit.publishable import DEFAULT_MAX_EVENT_BYTES, publishable_body
from services.kit.telemetry import current_traceparent

NOTIFY_CHANNEL = "bianmin_outbox"
_limits = {"max_event_bytes": DEFAULT_MAX_EVENT_BYTES}


def set_max_event_bytes(limit: int) -> None:
    """Set once at start from BIANMIN_MAX_EVENT_BYTES (one service per process)."""
    _limits["max_event_bytes"] = limit


@dataclass(frozen=True)
class Origin:
    """Who and what caused the events being appended."""

    actor: Actor
    causation_id: UUID | None = None


async def append(
    conn: asyncpg.Connection, *, source: Source, case_id: UUID, township_id: str, origin: Origin,
    events: list[NewEvent], now: datetime,
) -> list[Envelope]:
    """Number, stamp and insert events inside the caller's transaction.

    The table lock serialises appends, so `position` order is commit order and the relay
    never passes over a row that commits later with a lower number. Every envelope is checked
    before the first insert (publishable_body): one that Kafka or PostgreSQL would refuse raises
    a 422 domain error and nothing of the command is written.
    """
    if not events:
        return []
    await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
    version = await conn.fetchval("SELECT coalesce(max(stream_version), 0) FROM events WHERE case_id = $1", case_id)
    stamped: list[tuple[Envelope, str]] = []
    for new in events:
        version += 1
        envelope = new.type(
            event_type=event_type_name(new.type), event_id=new_event_id(), schema_version=new.type.SCHEMA_VERSION,
            occurred_at=now, source=source,
            case_id=case_id, stream_version=version, township_id=township_id, actor=origin.actor,
            correlation_id=case_id, causation_id=origin.causation_id, payload=new.payload,
        )
        stamped.append((envelope, publishable_body(envelope, max_bytes=_limits["max_event_bytes"])))
    traceparent = current_traceparent()
    for envelope, body in stamped:
        await conn.execute(
            "INSERT INTO events (event_id, case_id, stream_version, event_type, topic, body, traceparent)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            envelope.event_id, case_id, envelope.stream_version, envelope.event_type, envelope.TOPIC, body, traceparent,
        )
    await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return [envelope for envelope, _ in stamped]



async def read_stream(conn: asyncpg.Connection, case_id: UUID) -> list[Envelope]:
    """A case's events in this service's stream, in stream order: what a fold over its history reads."""
    rows = await conn.fetch("SELECT body FROM events WHERE case_id = $1 ORDER BY stream_version", case_id)
    return [parse_event(row["body"]) for row in rows]
