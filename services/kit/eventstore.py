"""Appending a case's events to the service's own stream (which is also its outbox).

Appends take no table lock (ADR 38). Each case stream has a head row in `event_streams`; an
append bumps it (INSERT … ON CONFLICT DO UPDATE … RETURNING), which row-locks that case's head
until commit, then inserts all of its events in one multi-row statement. Hence:

- Two transactions appending to one case: the second waits on the head row and, once the first
  commits, reads its committed version (READ COMMITTED re-checks the updated row) and takes the
  next versions; its rows get positions after the first's, and only after the first committed.
  So within a case, position order is commit order, and the relay (position order, unpublished
  rows only) sends a case's events to Kafka in version order. UNIQUE(case_id, stream_version)
  stays as the last guard.
- Appends to different cases run side by side, so across cases a row may commit after one with a
  higher position. The relay keeps no high-water mark: it selects every unpublished row each
  pass, so the late row is simply published on a later pass. Nothing but the relay relied on
  global position order.
- A rolled-back append rolls back its head bump too: no version is consumed.

Rows must enter `events` through append (or keep `event_streams` in step): a head behind its
rows would make the next append collide on the unique key. A case with no head yet starts after
any row already stored for it, so hand-written rows in tests stay usable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, NewEvent, Source, new_event_id
from contracts.events import event_type_name, parse_event
from services.kit.publishable import DEFAULT_MAX_EVENT_BYTES, publishable_body
from services.kit.telemetry import current_traceparent

NOTIFY_CHANNEL = "bianmin_outbox"
DEFAULT_NOTIFY_INTERVAL = 0.02  # seconds; see set_notify_interval
_limits = {"max_event_bytes": DEFAULT_MAX_EVENT_BYTES}
_notify = {"interval": DEFAULT_NOTIFY_INTERVAL, "last": float("-inf")}

_BUMP_HEAD = (
    "INSERT INTO event_streams AS s (case_id, version)"
    " SELECT $1, coalesce(max(stream_version), 0) + $2 FROM events WHERE case_id = $1"
    " ON CONFLICT (case_id) DO UPDATE SET version = s.version + $2"
    " RETURNING version - $2"
)
# The same, also queueing a wake-up for the relays (delivered at commit, dropped on rollback).
_BUMP_HEAD_AND_NOTIFY = f"WITH head AS ({_BUMP_HEAD} AS base) SELECT base FROM head, pg_notify('{NOTIFY_CHANNEL}', '')"
_INSERT_EVENTS = (
    "INSERT INTO events (event_id, case_id, stream_version, event_type, topic, body, traceparent)"
    " SELECT e.event_id, $1, e.version, e.event_type, e.topic, e.body, $7"
    " FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[]) AS e(event_id, version, event_type, topic, body)"
)


def set_max_event_bytes(limit: int) -> None:
    """Set once at start from BIANMIN_MAX_EVENT_BYTES (one service per process)."""
    _limits["max_event_bytes"] = limit


def set_notify_interval(seconds: float) -> None:
    """At most one NOTIFY per `seconds` from this process (BIANMIN_OUTBOX_NOTIFY_SECONDS; 0: every append).

    PostgreSQL commits notifying transactions one at a time, under a lock held across the
    commit's WAL flush, so a NOTIFY per append would cap concurrent writers. A lone append still
    notifies (the relay sends it at once); an append inside the interval is found by the relay's
    short idle poll (BIANMIN_RELAY_POLL_SECONDS) or by the pass another notification triggers.
    """
    _notify["interval"] = seconds


def _notify_now() -> bool:
    now = time.monotonic()
    if now - _notify["last"] < _notify["interval"]:
        return False
    _notify["last"] = now
    return True


@dataclass(frozen=True)
class Origin:
    """Who and what caused the events being appended."""

    actor: Actor
    causation_id: UUID | None = None


async def append(
    conn: asyncpg.Connection, *, source: Source, case_id: UUID, township_id: str, origin: Origin,
    events: list[NewEvent], now: datetime,
) -> list[Envelope]:
    """Number, stamp and insert events inside the caller's transaction: two round trips.

    Every envelope is checked before the insert (publishable_body): one that Kafka or PostgreSQL
    would refuse raises a 422 domain error and nothing of the command is written.
    """
    if not events:
        return []
    version = await conn.fetchval(_BUMP_HEAD_AND_NOTIFY if _notify_now() else _BUMP_HEAD, case_id, len(events))
    try:
        stamped = _stamp(events, base=version, source=source, case_id=case_id, township_id=township_id,
                         origin=origin, now=now)
    except Exception:
        # Give the versions back, so a caller that handles the refusal and commits leaves no gap.
        await conn.execute("UPDATE event_streams SET version = version - $2 WHERE case_id = $1", case_id, len(events))
        raise
    await conn.execute(
        _INSERT_EVENTS, case_id, [e.event_id for e, _ in stamped], [e.stream_version for e, _ in stamped],
        [e.event_type for e, _ in stamped], [e.TOPIC for e, _ in stamped], [body for _, body in stamped],
        current_traceparent(),
    )
    return [envelope for envelope, _ in stamped]


def _stamp(events: list[NewEvent], *, base: int, source: Source, case_id: UUID, township_id: str, origin: Origin,
           now: datetime) -> list[tuple[Envelope, str]]:
    """Envelopes numbered after `base`, each with the exact body to store and publish."""
    stamped: list[tuple[Envelope, str]] = []
    for version, new in enumerate(events, start=base + 1):
        envelope = new.type(
            event_type=event_type_name(new.type), event_id=new_event_id(), schema_version=new.type.SCHEMA_VERSION,
            occurred_at=now, source=source,
            case_id=case_id, stream_version=version, township_id=township_id, actor=origin.actor,
            correlation_id=case_id, causation_id=origin.causation_id, payload=new.payload,
        )
        stamped.append((envelope, publishable_body(envelope, max_bytes=_limits["max_event_bytes"])))
    return stamped


async def load_stream(conn: asyncpg.Connection, case_id: UUID) -> list[Envelope]:
    """The service's own events of one case, in stream order: what its decisions are folded from."""
    rows = await conn.fetch("SELECT body FROM events WHERE case_id = $1 ORDER BY stream_version", case_id)
    return [parse_event(row["body"]) for row in rows]
