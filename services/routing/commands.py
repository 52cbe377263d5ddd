"""Routing's use cases: load state, ask the domain, append events and save the state in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, NewEvent, Source
from contracts.events import CaseSubmitted
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.routing import assignment, domain, staff_store, store
from services.routing.domain import CaseState

log = logging.getLogger(__name__)
SOURCE: Source = "routing"
SYSTEM = Actor(kind="system", id=SOURCE)


async def assign_submitted(conn: asyncpg.Connection, clock: Clock, *, event: CaseSubmitted) -> None:
    """分办: open the case and give it to its department and least-loaded staff member.

    Runs inside the inbox transaction that records the CaseSubmitted as processed.
    """
    if await store.case_exists(conn, event.case_id):
        log.warning("case already open, submission ignored", extra={"case_id": str(event.case_id),
                                                                    "event_id": str(event.event_id)})
        return
    state = domain.opened(event)
    department = domain.assignment_department(await store.load_department(conn, state.department_code))
    if department.code != state.department_code:
        log.warning("department not in directory, case sent to the general window",
                    extra={"case_id": str(event.case_id), "department_code": state.department_code})
    events = domain.decide_assign(state, department=department,
                                  staff_id=await _able_holder(conn, state, department_code=department.code))
    await _append_and_save(conn, state, events, Origin(actor=SYSTEM, causation_id=event.event_id), now=clock.now())


async def transfer_case(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, cmd: domain.TransferCase, actor: Actor,
                        may_act: Callable[[CaseState], None]) -> CaseState:
    """转办 to another department, re-assigned there to its least-loaded staff member."""
    async with pool.acquire() as conn, conn.transaction():
        # Staff rows are locked before the case and before `append` locks the events table: the order
        # assignment and presence changes lock in (ADR 25). A case's township and item never change,
        # so they are read unlocked to know which rows.
        peek = await store.get_case(conn, case_id)
        if peek is None:
            raise domain.CaseNotFound()
        may_act(peek)
        candidates = await staff_store.lock_able_staff(conn, township_id=peek.township_id,
                                                       department_code=cmd.to_department_code, item_code=peek.item_code)
        state = await _locked(conn, case_id, may_act)
        target = await store.load_department(conn, cmd.to_department_code)
        events = domain.decide_transfer(state, cmd, target=target)
        assert target is not None  # decide_transfer refuses an unknown department
        holder = assignment.choose_holder(candidates, department_code=target.code, item_code=state.item_code)
        state = await _append(conn, state, events, Origin(actor=actor), now=clock.now())
        state = domain.with_staff(state, holder)
        await store.save_case(conn, state)
        return state


async def complete_case(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, cmd: domain.CompleteCase, actor: Actor,
                        may_act: Callable[[CaseState], None]) -> CaseState:
    """办结: granted or refused, on time when decided by the promised deadline."""
    async with pool.acquire() as conn, conn.transaction():
        state = await _locked(conn, case_id, may_act)
        now = clock.now()
        events = domain.decide_complete(state, cmd, now=now)
        return await _append_and_save(conn, state, events, Origin(actor=actor), now=now)


async def flag_next_breach(pool: asyncpg.Pool, clock: Clock) -> UUID | None:
    """Flag one overdue case (DeadlineBreached) in its own transaction; None when none is left.

    The row lock with SKIP LOCKED lets several instances scan at once without both flagging
    a case, and `breached_at`, saved with the event, keeps it at one event across restarts.
    """
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        state = await store.lock_next_due(conn, now=now)
        if state is None:
            return None
        events = domain.decide_breach(state, now=now)
        if not events:  # the query and the domain rule must agree, or the scan would spin on this case
            raise RuntimeError(f"due case {state.case_id} not breachable by the domain rule")
        await _append_and_save(conn, state, events, Origin(actor=SYSTEM), now=now)
        log.info("deadline breached", extra={"case_id": str(state.case_id), "township_id": state.township_id})
        return state.case_id


async def _able_holder(conn: asyncpg.Connection, state: CaseState, *, department_code: str) -> str | None:
    """The able staff member present with the fewest open cases (their rows locked), or None: the general window."""
    candidates = await staff_store.lock_able_staff(conn, township_id=state.township_id,
                                                   department_code=department_code, item_code=state.item_code)
    return assignment.choose_holder(candidates, department_code=department_code, item_code=state.item_code)


async def _locked(conn: asyncpg.Connection, case_id: UUID, may_act: Callable[[CaseState], None]) -> CaseState:
    """The case, row-locked, once the caller may act on it (raises 403 otherwise)."""
    state = await store.lock_case(conn, case_id)
    if state is None:
        raise domain.CaseNotFound()
    may_act(state)
    return state


async def _append(conn: asyncpg.Connection, state: CaseState, events: list[NewEvent], origin: Origin, *,
                  now: datetime) -> CaseState:
    stamped: list[Envelope] = await append(conn, source=SOURCE, case_id=state.case_id, township_id=state.township_id,
                                           origin=origin, events=events, now=now)
    return domain.fold(state, stamped)


async def _append_and_save(conn: asyncpg.Connection, state: CaseState, events: list[NewEvent], origin: Origin, *,
                           now: datetime) -> CaseState:
    state = await _append(conn, state, events, origin, now=now)
    await store.save_case(conn, state)
    return state
