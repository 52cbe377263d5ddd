"""Routing's use cases of the bad-rating loop: open a follow-up on a bad rating, record its steps, fire its
timers; each in one transaction with the events it appends to the case's stream.

Locks: a follow-up's row, then the events table (append); a case's commands never lock a follow-up, so
neither waits on the other in opposite orders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, NewEvent
from contracts.events import CaseRated
from contracts.rating_events import FollowUpOpened
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.routing import follow_up, store
from services.routing import follow_up_store as fstore
from services.routing import timers_store as timers
from services.routing.alerts import AlertPolicy
from services.routing.commands import SOURCE, SYSTEM
from services.routing.follow_up import FollowUpLimits, FollowUpState

log = logging.getLogger(__name__)
Decide = Callable[[FollowUpState], list[NewEvent]]


async def open_on_rating(conn: asyncpg.Connection, clock: Clock, policy: AlertPolicy, limits: FollowUpLimits,
                         rating: CaseRated) -> None:
    """A bad rating (round 1 or 2) opens a follow-up with its timers, in the inbox transaction; a good one is
    only remembered (so that asking to follow it up is told it is not bad); one heard before, nothing."""
    case = await store.get_case(conn, rating.case_id)
    if case is None:
        log.warning("rating of a case routing never held, ignored",
                    extra={"case_id": str(rating.case_id), "event_id": str(rating.event_id)})
        return
    if not await fstore.remember_rating(conn, rating) or not follow_up.is_bad(rating.payload.score):
        return
    owner = follow_up.owner_of(completed_by=await fstore.completed_by(conn, case.case_id), holder=case.staff_id,
                               centre_head=await fstore.centre_head(conn, case.township_id))
    events = follow_up.decide_open(case, rating, owner=owner, limits=limits, calendar=policy.calendar)
    [opened] = await append(conn, source=SOURCE, case_id=case.case_id, township_id=case.township_id,
                            origin=Origin(actor=SYSTEM, causation_id=rating.event_id), events=events, now=clock.now())
    assert isinstance(opened, FollowUpOpened)
    state = follow_up.opened(opened, case, rated_at=rating.occurred_at)
    await fstore.save(conn, state)
    await timers.arm(conn, state.rating_event_id, follow_up.follow_up_timers(
        state, calendar=policy.calendar, warning_days=policy.warning_days_for(state.township_id)))


async def act(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, rating_event_id: UUID, actor: Actor,
              may_act: Callable[[FollowUpState], None], decide: Callable[..., list[NewEvent]]) -> FollowUpState:
    """One step on a follow-up: lock it, check the caller, decide (given the state and now), append, save, and
    drop the timers of the steps no longer owed."""
    async with pool.acquire() as conn, conn.transaction():
        state = await fstore.lock(conn, case_id=case_id, rating_event_id=rating_event_id)
        if state is None:
            score = await fstore.rating_score(conn, case_id=case_id, rating_event_id=rating_event_id)
            raise follow_up.NotABadRating() if score is not None else follow_up.FollowUpNotFound()
        may_act(state)
        now = clock.now()
        appended = await append(conn, source=SOURCE, case_id=state.case_id, township_id=state.township_id,
                                origin=Origin(actor=actor), events=decide(state, now), now=now)
        for event in appended:
            state = follow_up.evolve(state, event)
        await fstore.save(conn, state)
        done = [key for key in follow_up.SUBJECTS if key not in follow_up.pending_keys(state)]
        await timers.disarm(conn, rating_event_id, keys=done)
    return state


async def fire_next_timer(pool: asyncpg.Pool, clock: Clock) -> str | None:
    """Fire one due timer of a follow-up in its own transaction.

    Returns the event type fired, "" for a timer that no longer applies, None when none is due.
    """
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        due = await fstore.lock_next_due_timer(conn, now=now)
        if due is None:
            return None
        state = await fstore.get(conn, due.case_id)
        assert state is not None  # the join found its row and locked it
        if events := follow_up.decide_alert(state, due.timer, now=now):
            for event in await append(conn, source=SOURCE, case_id=state.case_id, township_id=state.township_id,
                                      origin=Origin(actor=SYSTEM), events=events, now=now):
                state = follow_up.evolve(state, event)
            await fstore.save(conn, state)
        await timers.mark_fired(conn, due, now=now)
        return events[0].type.__name__ if events else ""
