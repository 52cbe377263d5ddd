"""Intake's use cases: load state, ask the domain, append events and update the read model in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, Source, new_event_id
from contracts.events import CaseRated, CaseSubmitted, ContactErased
from contracts.workdays import SHANGHAI, default_calendar
from services.intake import domain, store
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append

log = logging.getLogger(__name__)
SOURCE: Source = "intake"


async def submit_case(pool: asyncpg.Pool, clock: Clock, *, cmd: domain.SubmitCase, actor: Actor) -> CaseSubmitted:
    """Take a case in: number it, fix its deadline on the working-day calendar, emit CaseSubmitted."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        prefix = await store.township_prefix(conn, cmd.township_id)
        if prefix is None:
            raise domain.UnknownTownship()
        item = await store.load_item(conn, cmd.item_code)
        if item is None:
            raise domain.UnknownItem()
        deadline = default_calendar().deadline_for(now, item.promised_limit_days)
        case_no = await store.next_case_no(conn, township_id=cmd.township_id, prefix=prefix,
                                           day=now.astimezone(SHANGHAI).date())
        events = domain.decide_submit(cmd, item=item, case_no=case_no, deadline=deadline)
        case_id = new_event_id()
        [submitted] = await append(conn, source=SOURCE, case_id=case_id, township_id=cmd.township_id,
                                   origin=Origin(actor=actor), events=events, now=now)
        await store.insert_case(conn, case_id=case_id, township_id=cmd.township_id, payload=submitted.payload,
                                submitted_at=now)
        await store.insert_contact(conn, case_id=case_id, township_id=cmd.township_id, phone=cmd.applicant_phone, at=now)
    assert isinstance(submitted, CaseSubmitted)
    return submitted


async def rate_case(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, score: int, comment: str, actor: Actor,
                    may_see: Callable[[str], None]) -> CaseRated:
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        state, township_id = await _lock_case(conn, case_id, may_see)
        events = domain.decide_rating(state, score=score, comment=comment)
        [rated] = await append(conn, source=SOURCE, case_id=case_id, township_id=township_id,
                               origin=Origin(actor=actor), events=events, now=now)
        await store.mark_rated(conn, case_id, score=score, at=now)
    assert isinstance(rated, CaseRated)
    return rated


async def erase_contact(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, reason: str, actor: Actor,
                        may_see: Callable[[str], None]) -> ContactErased:
    """Erase the applicant's phone number here; the contact relay then publishes the tombstone."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        _, township_id = await _lock_case(conn, case_id, may_see)
        erased = await store.lock_contact_erased(conn, case_id)
        events = domain.decide_erase_contact(erased=bool(erased), reason=reason)
        [event] = await append(conn, source=SOURCE, case_id=case_id, township_id=township_id,
                               origin=Origin(actor=actor), events=events, now=now)
        await store.erase_contact(conn, case_id, at=now)
    assert isinstance(event, ContactErased)
    return event


async def _lock_case(conn: asyncpg.Connection, case_id: UUID,
                     may_see: Callable[[str], None]) -> tuple[domain.CaseState, str]:
    """The case's state and township, locked for this transaction, once the caller may see it."""
    found = await store.lock_case_state(conn, case_id)
    if found is None:
        raise domain.CaseNotFound()
    may_see(found[1])
    return found


async def apply_routing_event(conn: asyncpg.Connection, event: Envelope) -> None:
    """Follow routing's events so the resident-facing status is current (inside the inbox transaction)."""
    progress = await store.lock_progress(conn, event.case_id)
    if progress is None:
        # Intake commits a case before routing can hear of it, so this case was never taken in
        # here (another system sharing the broker): there is nothing to show, and nothing to retry.
        log.warning("routing event for a case intake does not hold; nothing to update",
                    extra={"case_id": str(event.case_id), "event_id": str(event.event_id)})
        return
    await store.save_progress(conn, event.case_id, domain.evolve(progress, event))
