"""SQL of the hall's visits: the projection kept as ticket events are chained, and the tickets of a period."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from contracts.envelope import Envelope
from contracts.events import ServiceEnded, ServiceStarted, TicketCalled, TicketIssued
from services.kit.hall_figures import TicketFigures

_UPSERT = ("INSERT INTO hall_visits (ticket_id, township_id, {columns}) VALUES ($1, $2, {values})"
           " ON CONFLICT (ticket_id) DO UPDATE SET {updates}")


async def _upsert(conn: asyncpg.Connection, event: Envelope, **columns: object) -> None:
    names = list(columns)
    sql = _UPSERT.format(columns=", ".join(names), values=", ".join(f"${i}" for i in range(3, 3 + len(names))),
                         updates=", ".join(f"{n} = EXCLUDED.{n}" for n in names))
    await conn.execute(sql, event.case_id, event.township_id, *columns.values())


async def project(conn: asyncpg.Connection, event: Envelope) -> None:
    """Keeps the ticket's row in step; any order of arrival, and a redelivery, give the same row."""
    match event:
        case TicketIssued():
            await _upsert(conn, event, queue=event.payload.queue, issued_at=event.payload.issued_at)
        case TicketCalled():
            await _upsert(conn, event, called=True)
        case ServiceStarted():
            await _upsert(conn, event, called=True, wait_seconds=event.payload.wait_seconds)
        case ServiceEnded():
            await _upsert(conn, event, outcome=event.payload.outcome,
                          service_seconds=event.payload.service_seconds if event.payload.outcome == "served" else None)


async def tickets(conn: asyncpg.Connection, *, township_id: str, start: datetime, end: datetime) -> list[TicketFigures]:
    rows = await conn.fetch(
        "SELECT issued_at, (issued_at AT TIME ZONE 'Asia/Shanghai')::date AS day, outcome, wait_seconds, service_seconds"
        " FROM hall_visits WHERE township_id = $1 AND issued_at >= $2 AND issued_at < $3",
        township_id, start, end)
    return [TicketFigures(**dict(r)) for r in rows]
