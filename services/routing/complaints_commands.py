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
from services.routing.commands import SOURCE
from services.routing.complaints import ComplaintState

log = logging.getLogger(__name__)


async def hold_registered(conn: asyncpg.Connection, event: ComplaintRegistered) -> None:
    """Keep the complaint for the centre head or its department (inside the inbox transaction)."""
    if not await cstore.insert_new(conn, complaints.received(event)):
        log.warning("complaint already held, registration ignored",
                    extra={"case_id": str(event.case_id), "event_id": str(event.event_id)})


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
    return state
