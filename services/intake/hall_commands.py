"""The hall's use cases: lock the ticket, ask the rules, append its event and update hall_tickets in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, NewEvent, Source, new_event_id
from contracts.errors import DomainError
from contracts.events import ServiceEnded, ServiceStarted
from services.intake import hall, hall_store, store
from services.intake.domain import UnknownTownship
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append

SOURCE: Source = "intake"


class CasesUnknown(DomainError):
    status, code, message = 422, "CASE_NOT_IN_TOWNSHIP", "关联的办件不存在或不属于本乡镇"


@dataclass(frozen=True)
class Step:
    """A ticket's new event, with what the caller answers from."""

    ticket_id: UUID
    township_id: str
    ticket: hall.Ticket
    event: Envelope


async def _append(conn: asyncpg.Connection, *, ticket_id: UUID, township_id: str, actor: Actor,
                  events: list[NewEvent], now: datetime) -> Envelope:
    [event] = await append(conn, source=SOURCE, case_id=ticket_id, township_id=township_id,
                           origin=Origin(actor=actor), events=events, now=now)
    return event


async def issue_ticket(pool: asyncpg.Pool, clock: Clock, *, township_id: str, queue: str,
                       actor: Actor) -> tuple[Step, int]:
    """取号: the next number of the queue today; also answers how many wait ahead of it."""
    now = clock.now()
    day = hall.service_day(now)
    async with pool.acquire() as conn, conn.transaction():
        if await store.township_prefix(conn, township_id) is None:
            raise UnknownTownship()
        if not await hall_store.queue_exists(conn, queue):
            raise hall.QueueUnknown()
        await hall_store.lock_township_hall(conn, township_id)
        letter = await hall_store.letter_of(conn, township_id, queue)
        number = await hall_store.next_ticket_no(conn, township_id=township_id, day=day, letter=letter)
        ticket_id = new_event_id()
        event = await _append(conn, ticket_id=ticket_id, township_id=township_id, actor=actor,
                              events=hall.decide_issue(queue=queue, number=number, now=now), now=now)
        await hall_store.insert_ticket(conn, ticket_id=ticket_id, township_id=township_id, day=day, queue=queue,
                                       number=number, at=now)
        ahead = await hall_store.waiting_ahead(conn, township_id=township_id, day=day, queue=queue, ticket_id=ticket_id)
    ticket = hall.Ticket(ticket_no=number, queue=queue, day=day, status="issued", issued_at=now)
    return Step(ticket_id, township_id, ticket, event), ahead


async def call_next(pool: asyncpg.Pool, clock: Clock, *, township_id: str, queues: list[str], window_no: str,
                    actor: Actor) -> Step:
    """叫号: the longest-waiting ticket of the window's queues, taken today."""
    now = clock.now()
    day = hall.service_day(now)
    async with pool.acquire() as conn, conn.transaction():
        # Two calls from one window at once: the second waits here, then finds the window busy.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('hall-window:' || $1 || ':' || $2))",
                           township_id, window_no)
        if await hall_store.window_holds_ticket(conn, township_id=township_id, day=day, window_no=window_no):
            raise hall.WindowBusy()
        found = await hall_store.lock_next_waiting(conn, township_id=township_id, day=day, queues=queues)
        if found is None:
            raise hall.NoTicketWaiting()
        ticket_id, ticket = found
        events = hall.decide_call(ticket, window_no=window_no, staff_id=actor.id, now=now)
        event = await _append(conn, ticket_id=ticket_id, township_id=township_id, actor=actor, events=events, now=now)
        await hall_store.mark_called(conn, ticket_id, window_no=window_no, staff_id=actor.id, at=now)
    return Step(ticket_id, township_id, ticket, event)


Decide = Callable[[hall.Ticket, str, asyncpg.Connection], Awaitable[list[NewEvent]]]
Record = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]


async def _step(pool: asyncpg.Pool, ticket_id: UUID, *, now: datetime, actor: Actor, may_see: Callable[[str], None],
                decide: Decide, record: Record) -> Step:
    """Lock the ticket, check the caller's township, decide, append, and update the read model."""
    async with pool.acquire() as conn, conn.transaction():
        found = await hall_store.lock_ticket(conn, ticket_id)
        if found is None:
            raise hall.TicketNotFound()
        ticket, township_id = found
        may_see(township_id)
        events = await decide(ticket, township_id, conn)
        event = await _append(conn, ticket_id=ticket_id, township_id=township_id, actor=actor, events=events, now=now)
        await record(conn, event)
    return Step(ticket_id, township_id, ticket, event)


async def recall(pool: asyncpg.Pool, clock: Clock, ticket_id: UUID, *, window_no: str, actor: Actor,
                 may_see: Callable[[str], None]) -> Step:
    """重新叫号: the same window calls its ticket again."""
    now = clock.now()

    async def decide(ticket: hall.Ticket, _: str, __: asyncpg.Connection) -> list[NewEvent]:
        return hall.decide_recall(ticket, window_no=window_no, staff_id=actor.id, now=now)

    async def record(conn: asyncpg.Connection, _: Envelope) -> None:
        await hall_store.mark_called(conn, ticket_id, window_no=window_no, staff_id=actor.id, at=now)
    return await _step(pool, ticket_id, now=now, actor=actor, may_see=may_see, decide=decide, record=record)


async def start_service(pool: asyncpg.Pool, clock: Clock, ticket_id: UUID, *, window_no: str, actor: Actor,
                        may_see: Callable[[str], None]) -> Step:
    now = clock.now()

    async def decide(ticket: hall.Ticket, _: str, __: asyncpg.Connection) -> list[NewEvent]:
        return hall.decide_start(ticket, window_no=window_no, staff_id=actor.id, now=now)

    async def record(conn: asyncpg.Connection, event: Envelope) -> None:
        assert isinstance(event, ServiceStarted)
        await hall_store.mark_started(conn, ticket_id, staff_id=actor.id, wait_seconds=event.payload.wait_seconds,
                                      at=now)
    return await _step(pool, ticket_id, now=now, actor=actor, may_see=may_see, decide=decide, record=record)


async def end_service(pool: asyncpg.Pool, clock: Clock, ticket_id: UUID, *, window_no: str, outcome: hall.Outcome,
                      case_ids: list[UUID], actor: Actor, may_see: Callable[[str], None]) -> Step:
    """办理结束 or 过号; the cases taken in during the service must be this township's."""
    now = clock.now()

    async def decide(ticket: hall.Ticket, township_id: str, conn: asyncpg.Connection) -> list[NewEvent]:
        events = hall.decide_end(ticket, window_no=window_no, outcome=outcome, case_ids=case_ids, now=now)
        if case_ids and await hall_store.cases_of_township(conn, case_ids, township_id) != set(case_ids):
            raise CasesUnknown()
        return events

    async def record(conn: asyncpg.Connection, event: Envelope) -> None:
        assert isinstance(event, ServiceEnded)
        # A no-show was not served: it has no service time in the statistics (the event says 0).
        seconds = event.payload.service_seconds if outcome == "served" else None
        await hall_store.mark_ended(conn, ticket_id, outcome=outcome, service_seconds=seconds, case_ids=case_ids,
                                    at=now)
    return await _step(pool, ticket_id, now=now, actor=actor, may_see=may_see, decide=decide, record=record)
