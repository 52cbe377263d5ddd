"""The hall's SQL: queue letters, ticket numbers and the tickets read model."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from services.intake.hall import GENERAL_WINDOW, Ticket, queue_letter, ticket_no
from services.kit.hall_figures import TicketFigures

_TICKET = "ticket_no, queue, day, status, issued_at, window_no, started_at"


async def lock_township_hall(conn: asyncpg.Connection, township_id: str) -> None:
    """Serialises ticket issuing per township for the transaction, so letters and numbers never clash."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('hall:' || $1))", township_id)


async def queue_exists(conn: asyncpg.Connection, queue: str) -> bool:
    """The general window, or a department that decides an item of the catalogue."""
    if queue == GENERAL_WINDOW:
        return True
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM service_items WHERE department_code = $1)", queue))


async def letter_of(conn: asyncpg.Connection, township_id: str, queue: str) -> str:
    """The queue's letter in this township, given on its first ticket (under lock_township_hall)."""
    letter = await conn.fetchval("SELECT letter FROM hall_queue_letters WHERE township_id = $1 AND queue = $2",
                                 township_id, queue)
    if letter is not None:
        return letter
    taken = [r["letter"] for r in await conn.fetch("SELECT letter FROM hall_queue_letters WHERE township_id = $1",
                                                    township_id)]
    letter = queue_letter(queue, taken)
    await conn.execute("INSERT INTO hall_queue_letters (township_id, queue, letter) VALUES ($1, $2, $3)",
                       township_id, queue, letter)
    return letter


async def next_ticket_no(conn: asyncpg.Connection, *, township_id: str, day: date, letter: str) -> str:
    number = await conn.fetchval(
        "INSERT INTO hall_ticket_counters (township_id, day, letter, last_no) VALUES ($1, $2, $3, 1)"
        " ON CONFLICT (township_id, day, letter) DO UPDATE SET last_no = hall_ticket_counters.last_no + 1"
        " RETURNING last_no", township_id, day, letter)
    return ticket_no(letter, number)


async def insert_ticket(conn: asyncpg.Connection, *, ticket_id: UUID, township_id: str, day: date, queue: str,
                        number: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO hall_tickets (ticket_id, township_id, day, queue, ticket_no, status, issued_at)"
        " VALUES ($1, $2, $3, $4, $5, 'issued', $6)", ticket_id, township_id, day, queue, number, at)


def _ticket(row: asyncpg.Record) -> Ticket:
    return Ticket(ticket_no=row["ticket_no"], queue=row["queue"], day=row["day"], status=row["status"],
                  issued_at=row["issued_at"], window_no=row["window_no"], started_at=row["started_at"])


async def lock_ticket(conn: asyncpg.Connection, ticket_id: UUID) -> tuple[Ticket, str] | None:
    """The ticket and its township, locked for the transaction."""
    row = await conn.fetchrow(f"SELECT {_TICKET}, township_id FROM hall_tickets WHERE ticket_id = $1 FOR UPDATE",
                              ticket_id)
    return (_ticket(row), row["township_id"]) if row else None


async def lock_next_waiting(conn: asyncpg.Connection, *, township_id: str, day: date,
                            queues: list[str]) -> tuple[UUID, Ticket] | None:
    """The longest-waiting ticket of these queues today; one another window is calling is passed over."""
    row = await conn.fetchrow(
        f"SELECT ticket_id, {_TICKET} FROM hall_tickets WHERE township_id = $1 AND day = $2 AND status = 'issued'"
        " AND queue = ANY($3::text[]) ORDER BY issued_at, ticket_no LIMIT 1 FOR UPDATE SKIP LOCKED",
        township_id, day, queues)
    return (row["ticket_id"], _ticket(row)) if row else None


async def window_holds_ticket(conn: asyncpg.Connection, *, township_id: str, day: date, window_no: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM hall_tickets WHERE township_id = $1 AND day = $2 AND window_no = $3"
        " AND status IN ('called', 'started'))", township_id, day, window_no))


async def mark_called(conn: asyncpg.Connection, ticket_id: UUID, *, window_no: str, staff_id: str,
                      at: datetime) -> None:
    await conn.execute(
        "UPDATE hall_tickets SET status = 'called', called_at = $2, calls = calls + 1, window_no = $3, staff_id = $4"
        " WHERE ticket_id = $1", ticket_id, at, window_no, staff_id)


async def mark_started(conn: asyncpg.Connection, ticket_id: UUID, *, staff_id: str, wait_seconds: int,
                       at: datetime) -> None:
    await conn.execute(
        "UPDATE hall_tickets SET status = 'started', started_at = $2, staff_id = $3, wait_seconds = $4"
        " WHERE ticket_id = $1", ticket_id, at, staff_id, wait_seconds)


async def mark_ended(conn: asyncpg.Connection, ticket_id: UUID, *, outcome: str, service_seconds: int | None,
                     case_ids: list[UUID], at: datetime) -> None:
    await conn.execute(
        "UPDATE hall_tickets SET status = 'ended', ended_at = $2, outcome = $3, service_seconds = $4, case_ids = $5"
        " WHERE ticket_id = $1", ticket_id, at, outcome, service_seconds, case_ids)


async def cases_of_township(conn: asyncpg.Connection, case_ids: list[UUID], township_id: str) -> set[UUID]:
    rows = await conn.fetch("SELECT case_id FROM cases WHERE case_id = ANY($1::uuid[]) AND township_id = $2",
                            case_ids, township_id)
    return {r["case_id"] for r in rows}


async def waiting_ahead(conn: asyncpg.Connection, *, township_id: str, day: date, queue: str, ticket_id: UUID) -> int:
    """Today's other waiting tickets of the queue: all ahead of one just issued (issuing is serialised)."""
    return await conn.fetchval(
        "SELECT count(*) FROM hall_tickets WHERE township_id = $1 AND day = $2 AND queue = $3 AND status = 'issued'"
        " AND ticket_id <> $4", township_id, day, queue, ticket_id)


async def board(conn: asyncpg.Connection, *, township_id: str, day: date, shown: int) -> dict:
    """Today's queues (waiting count, the first `shown` numbers) and the tickets at the windows."""
    queues = await conn.fetch(
        "SELECT l.queue, l.letter, count(t.ticket_id) AS waiting,"
        " (array_agg(t.ticket_no ORDER BY t.issued_at, t.ticket_no) FILTER (WHERE t.ticket_id IS NOT NULL))[1:$3]"
        " AS next"
        " FROM hall_queue_letters l LEFT JOIN hall_tickets t ON t.township_id = l.township_id AND t.queue = l.queue"
        " AND t.day = $2 AND t.status = 'issued'"
        " WHERE l.township_id = $1 GROUP BY l.queue, l.letter ORDER BY l.letter", township_id, day, shown)
    windows = await conn.fetch(
        "SELECT ticket_no, queue, window_no, status, called_at, started_at FROM hall_tickets"
        " WHERE township_id = $1 AND day = $2 AND status IN ('called', 'started') ORDER BY called_at DESC LIMIT $3",
        township_id, day, shown)
    return {"queues": [{**dict(r), "next": r["next"] or []} for r in queues], "windows": [dict(r) for r in windows]}


async def ticket_figures(conn: asyncpg.Connection, *, township_id: str, first_day: date,
                         last_day: date) -> list[TicketFigures]:
    rows = await conn.fetch(
        "SELECT issued_at, day, outcome, wait_seconds, service_seconds FROM hall_tickets"
        " WHERE township_id = $1 AND day BETWEEN $2 AND $3", township_id, first_day, last_day)
    return [TicketFigures(**dict(r)) for r in rows]
