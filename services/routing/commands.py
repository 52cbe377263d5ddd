"""Routing's use cases for cases: lock the case, ask the domain, append the events, save the state and
set its timers, all in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, NewEvent, Source
from contracts.events import CaseSubmitted, MaterialsSupplied, ToleratedMaterialDue
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.routing import alerts, assignment, domain, escalation, joint, staff_store, store
from services.routing import timers_store as timers
from services.routing.alerts import AlertPolicy
from services.routing.domain import CaseState

log = logging.getLogger(__name__)
SOURCE: Source = "routing"
SYSTEM = Actor(kind="system", id=SOURCE)
MayAct = Callable[[CaseState], None]


async def assign_submitted(conn: asyncpg.Connection, clock: Clock, policy: AlertPolicy, *,
                           event: CaseSubmitted) -> None:
    """分办: open the case and give it to its department and an able staff member; a joint case gets its shares.

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
    # The township's staff rows first, in one go: the order presence changes lock them in (ADR 25),
    # whichever departments (a joint case's several) are then chosen from.
    await staff_store.lock_township_staff(conn, state.township_id)
    holder = await choose_holder(conn, state, department_code=department.code)
    events = domain.decide_assign(state, department=department, staff_id=holder)
    state = await _append(conn, state, events, Origin(actor=SYSTEM, causation_id=event.event_id), clock)
    shares = [code for code in event.payload.joint_department_codes if code != department.code]
    if shares:
        holders = {code: await choose_holder(conn, state, department_code=code) for code in shares}
        state = await _append(conn, state, joint.decide_open_shares(state, departments=holders),
                              Origin(actor=SYSTEM, causation_id=event.event_id), clock)
    await _save(conn, state, policy)


async def choose_holder(conn: asyncpg.Connection, state: CaseState, *, department_code: str) -> str | None:
    """The able staff member present with the fewest open cases (their rows locked), or None: the general window."""
    candidates = await staff_store.lock_able_staff(conn, township_id=state.township_id,
                                                   department_code=department_code, item_code=state.item_code)
    return assignment.choose_holder(candidates, department_code=department_code, item_code=state.item_code)


async def transfer_case(pool: asyncpg.Pool, clock: Clock, policy: AlertPolicy, *, case_id: UUID,
                        cmd: domain.TransferCase, actor: Actor, may_act: MayAct) -> CaseState:
    """转办 to another department and a holder there; a case bouncing back or a third time is flagged."""
    async with pool.acquire() as conn, conn.transaction():
        # Staff rows before the case, as assignment and presence changes lock them (ADR 25); a case's
        # township never changes, so it is read unlocked to know which rows.
        peek = await store.get_case(conn, case_id)
        if peek is None:
            raise domain.CaseNotFound()
        may_act(peek)
        await staff_store.lock_township_staff(conn, peek.township_id)
        state = await _locked(conn, case_id, may_act)
        target = await store.load_department(conn, cmd.to_department_code)
        domain.decide_transfer(state, cmd, target=target)  # refuse before choosing anyone
        assert target is not None  # decide_transfer refuses an unknown department
        holder = await choose_holder(conn, state, department_code=target.code)
        events = domain.decide_transfer(state, cmd, target=target, staff_id=holder)
        return await _append_and_save(conn, state, events, Origin(actor=actor), clock, policy)


async def complete_case(pool: asyncpg.Pool, clock: Clock, policy: AlertPolicy, *, case_id: UUID,
                        cmd: domain.CompleteCase, actor: Actor, may_act: MayAct) -> CaseState:
    """办结: granted or refused, on time when decided by the deadline in force."""
    return await act(pool, clock, policy, case_id=case_id, actor=actor, may_act=may_act,
                     decide=lambda s: domain.decide_complete(s, cmd, now=clock.now(), calendar=policy.calendar,
                                                             by=actor.id))


async def act(pool: asyncpg.Pool, clock: Clock, policy: AlertPolicy, *, case_id: UUID, actor: Actor, may_act: MayAct,
              decide: Callable[[CaseState], list[NewEvent]]) -> CaseState:
    """Any staff action on one case: lock it, check who may act, decide, append, save, reset its timers."""
    async with pool.acquire() as conn, conn.transaction():
        state = await _locked(conn, case_id, may_act)
        return await _append_and_save(conn, state, decide(state), Origin(actor=actor), clock, policy)


async def escalate_case(pool: asyncpg.Pool, clock: Clock, policy: AlertPolicy, *, case_id: UUID, actor: Actor,
                        may_act: MayAct, county_department: str, sent_materials: list[str],
                        note: str) -> CaseState:
    return await act(pool, clock, policy, case_id=case_id, actor=actor, may_act=may_act,
                     decide=lambda s: escalation.decide_escalate(
                         s, county_department=county_department, sent_materials=sent_materials, note=note))


async def finish_share(pool: asyncpg.Pool, clock: Clock, policy: AlertPolicy, *, case_id: UUID, actor: Actor,
                       may_act: MayAct, department_code: str, result: str, note: str) -> CaseState:
    return await act(pool, clock, policy, case_id=case_id, actor=actor, may_act=may_act,
                     decide=lambda s: joint.decide_share_done(
                         s, department_code=department_code, staff_id=actor.id, result=result, note=note,
                         now=clock.now(), calendar=policy.calendar))


async def owe_materials(conn: asyncpg.Connection, policy: AlertPolicy, *, event: ToleratedMaterialDue) -> None:
    """容缺: each tolerated material owed gets its own warning and breach, in the inbox transaction."""
    state = await store.lock_case(conn, event.case_id)
    if state is None or state.status != "assigned":
        log.warning("tolerated materials for a case routing does not hold open",
                    extra={"case_id": str(event.case_id), "event_id": str(event.event_id)})
        return
    days = policy.warning_days_for(state.township_id)
    for material in event.payload.materials:
        key = alerts.material_key(material.code)
        await timers.replace_key(conn, state.case_id, key, alerts.timers_for(
            key, deadline=event.payload.due, start=event.occurred_at, deadline_kind="tolerated_material",
            subject=material.name, calendar=policy.calendar, warning_days=days))


async def materials_brought(conn: asyncpg.Connection, *, event: MaterialsSupplied) -> None:
    """Materials brought after acceptance stop their alerts."""
    if event.payload.notice_no is None and await store.lock_case(conn, event.case_id) is not None:
        await timers.disarm(conn, event.case_id, keys=[alerts.material_key(c) for c in event.payload.materials])


async def fire_next_timer(pool: asyncpg.Pool, clock: Clock) -> str | None:
    """Fire one due timer of a case in its own transaction.

    Returns the event type fired, "" for a timer that no longer applies, None when none is due.
    """
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        due = await timers.lock_next_due_case_timer(conn, now=now)
        if due is None:
            return None
        state = await store.lock_case(conn, due.case_id)
        assert state is not None  # the join found its row and locked it
        events = alerts.decide_alert(state, due.timer, now=now)
        if events:
            state = await _append(conn, state, events, Origin(actor=SYSTEM), clock)
            await store.save_case(conn, state)
            log.info("deadline alert", extra={"case_id": str(state.case_id), "township_id": state.township_id,
                                              "kind": due.timer.kind, "deadline_key": due.timer.deadline_key})
        await timers.mark_fired(conn, due, now=now)
        return events[0].type.__name__ if events else ""


async def recount_provisional(pool: asyncpg.Pool, clock: Clock, policy: AlertPolicy, *, page: int = 200) -> int:
    """Recount every open case counted on the provisional calendar (at start: the official schedule may have
    been added); returns how many deadlines changed. One transaction per case, so a crash loses nothing."""
    changed, after = 0, None
    while ids := await _provisional_page(pool, after=after, limit=page):
        for case_id in ids:
            async with pool.acquire() as conn, conn.transaction():
                state = await store.lock_case(conn, case_id)
                if state is not None and (events := domain.decide_recount(state, calendar=policy.calendar)):
                    await _append_and_save(conn, state, events, Origin(actor=SYSTEM), clock, policy)
                    changed += 1
        after = ids[-1]
    return changed


async def _provisional_page(pool: asyncpg.Pool, *, after: UUID | None, limit: int) -> list[UUID]:
    async with pool.acquire() as conn:
        return await store.open_provisional(conn, after=after, limit=limit)


async def record_holder(conn: asyncpg.Connection, state: CaseState, events: Sequence[NewEvent], origin: Origin, *,
                        now: datetime) -> CaseState:
    """A new holder (handover, return, the centre head's choice): appended and saved; the clock and its
    timers do not change with who holds the case."""
    state = await _append_at(conn, state, events, origin, now=now)
    await store.save_case(conn, state)
    return state


async def _locked(conn: asyncpg.Connection, case_id: UUID, may_act: MayAct) -> CaseState:
    """The case, row-locked, once the caller may act on it (raises 403 otherwise)."""
    state = await store.lock_case(conn, case_id)
    if state is None:
        raise domain.CaseNotFound()
    may_act(state)
    return state


async def _append(conn: asyncpg.Connection, state: CaseState, events: Sequence[NewEvent], origin: Origin,
                  clock: Clock) -> CaseState:
    return await _append_at(conn, state, events, origin, now=clock.now())


async def _append_at(conn: asyncpg.Connection, state: CaseState, events: Sequence[NewEvent], origin: Origin, *,
                     now: datetime) -> CaseState:
    if not events:
        return state
    stamped: list[Envelope] = await append(conn, source=SOURCE, case_id=state.case_id, township_id=state.township_id,
                                           origin=origin, events=list(events), now=now)
    return domain.fold(state, stamped)


async def _save(conn: asyncpg.Connection, state: CaseState, policy: AlertPolicy) -> None:
    """The case's row and its timers: the case deadline's as the clock now stands; none once it is closed."""
    await store.save_case(conn, state)
    if state.status == "completed":
        await timers.disarm(conn, state.case_id)
        return
    await timers.replace_key(conn, state.case_id, alerts.CASE_KEY, alerts.case_timers(
        state, calendar=policy.calendar, warning_days=policy.warning_days_for(state.township_id)))


async def _append_and_save(conn: asyncpg.Connection, state: CaseState, events: Sequence[NewEvent], origin: Origin,
                           clock: Clock, policy: AlertPolicy) -> CaseState:
    state = await _append(conn, state, events, origin, clock)
    await _save(conn, state, policy)
    return state
