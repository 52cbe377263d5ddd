"""Routing's use cases for complaints: hold what intake registered, answer it in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

import asyncpg

from contracts.envelope import Actor
from contracts.events import ComplaintRegistered
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.routing import complaints
from services.routing import complaints_store as cstore
from services.routing import timers_store as timers
from services.routing.alerts import AlertPolicy
from services.routing.commands import SOURCE, SYSTEM
from services.routing.complaints import ComplaintState

log = logging.getLogger(__name__)


async def hold_registered(conn: asyncpg.Connection, policy: AlertPolicy, event: ComplaintRegistered) -> None:
    """Keep the complaint for the centre head or its department, with its answer's timers (in the inbox
    transaction)."""
    state = complaints.received(event)
    if not await cstore.insert_new(conn, state):
        log.warning("complaint already held, registration ignored",
                    extra={"case_id": str(event.case_id), "event_id": str(event.event_id)})
        return
    await timers.arm(conn, state.complaint_id, complaints.complaint_timers(
        state, calendar=policy.calendar, warning_days=policy.warning_days_for(state.township_id)))


async def fire_next_timer(pool: asyncpg.Pool, clock: Clock) -> str | None:
    """Fire one due timer of a complaint in its own transaction.

    Returns the event type fired, "" for a timer that no longer applies, None when none is due.
    """
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        due = await timers.lock_next_due_complaint_timer(conn, now=now)
        if due is None:
            return None
        state = await cstore.get(conn, due.case_id)
        assert state is not None  # the join found its row and locked it
        if events := complaints.decide_alert(state, due.timer, now=now):
            await append(conn, source=SOURCE, case_id=state.complaint_id, township_id=state.township_id,
                         origin=Origin(actor=SYSTEM), events=events, now=now)
        await timers.mark_fired(conn, due, now=now)
        return events[0].type.__name__ if events else ""


async def answer_complaint(pool: asyncpg.Pool, clock: Clock, *, complaint_id: UUID, answer: str, upheld: bool,
                           actor: Actor, may_act: Callable[[ComplaintState], None]) -> ComplaintState:
    async with pool.acquire() as conn, conn.transaction():
        state = await cstore.lock(conn, complaint_id)
        if state is None:
            raise complaints.ComplaintNotFound()
        may_act(state)
        now = clock.now()
        events = complaints.decide_answer(state, answer=answer, upheld=upheld, answerer_id=actor.id, now=now)
        [answered] = await append(conn, source=SOURCE, case_id=complaint_id, township_id=state.township_id,
                                  origin=Origin(actor=actor), events=events, now=now)
        state = complaints.evolve(state, answered)
        await cstore.save(conn, state)
        await timers.disarm(conn, complaint_id)
    return state
