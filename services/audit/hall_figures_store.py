"""SQL of the hall's visits: the projection kept as ticket events are chained, and the tickets of a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Envelope
from contracts.events import ServiceEnded, ServiceStarted, TicketCalled, TicketIssued
from services.kit.hall_figures import TicketFigures

_UPSERT = ("INSERT INTO hall_visits (ticket_id, township_id, {columns}) VALUES ($1, $2, {values})"
           " ON CONFLICT (ticket_id) DO UPDATE SET {updates}")


async def _upsert(conn: asyncpg.Connection, event: Envelope, **columns: object) -> None:
    await _upsert_rows(conn, list(columns), [(event.case_id, event.township_id, *columns.values())])


async def _upsert_rows(conn: asyncpg.Connection, names: list[str], rows: list[tuple[object, ...]]) -> None:
    sql = _UPSERT.format(columns=", ".join(names), values=", ".join(f"${i}" for i in range(3, 3 + len(names))),
                         updates=", ".join(f"{n} = EXCLUDED.{n}" for n in names))
    await conn.executemany(sql, rows)


def columns_of(event: Envelope) -> dict[str, object] | None:
    """The hall_visits columns `event` sets on its ticket's row, or None when it is no ticket event."""
    match event:
        case TicketIssued():
            return {"queue": event.payload.queue, "issued_at": event.payload.issued_at}
        case TicketCalled():
            return {"called": True}
        case ServiceStarted():
            return {"called": True, "wait_seconds": event.payload.wait_seconds}
        case ServiceEnded():
            return {"outcome": event.payload.outcome,
                    "service_seconds": event.payload.service_seconds if event.payload.outcome == "served" else None}
    return None


async def project(conn: asyncpg.Connection, event: Envelope) -> None:
    """Keeps the ticket's row in step; any order of arrival, and a redelivery, give the same row."""
    if (columns := columns_of(event)) is not None:
        await _upsert(conn, event, **columns)


async def project_many(conn: asyncpg.Connection, events: Sequence[Envelope]) -> None:
    """What `project` on each event in order leaves, with one upsert per ticket: a later event's
    columns override an earlier one's, the row is created with the first event's township."""
    merged: dict[UUID, tuple[str, dict[str, object]]] = {}
    for event in events:
        if (columns := columns_of(event)) is not None:
            _, kept = merged.setdefault(event.case_id, (event.township_id, {}))
            kept.update(columns)
    by_names: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
    for ticket_id, (township, kept) in merged.items():
        by_names.setdefault(tuple(kept), []).append((ticket_id, township, *kept.values()))
    for names, rows in by_names.items():
        await _upsert_rows(conn, list(names), rows)


async def tickets(conn: asyncpg.Connection, *, township_id: str, start: datetime, end: datetime) -> list[TicketFigures]:
    rows = await conn.fetch(
        "SELECT issued_at, (issued_at AT TIME ZONE 'Asia/Shanghai')::date AS day, outcome, wait_seconds, service_seconds"
        " FROM hall_visits WHERE township_id = $1 AND issued_at >= $2 AND issued_at < $3",
        township_id, start, end)
    return [TicketFigures(**dict(r)) for r in rows]
