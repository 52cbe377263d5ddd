"""Intake's use cases: load state, ask the domain, append events and update the read model in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, NewEvent, Source, new_event_id
from contracts.errors import DomainError
from contracts.events import Acknowledgement, ContactErased
from contracts.workdays import SHANGHAI, default_calendar
from services.intake import application, case_view, catalogue_store, domain, store
from services.intake.items import Item
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append, load_stream

log = logging.getLogger(__name__)
SOURCE: Source = "intake"


class IdempotencyKeyReused(DomainError):
    status, code, message = 422, "IDEMPOTENCY_KEY_REUSED", "同一 Idempotency-Key 已用于内容不同的另一次提交"


@dataclass(frozen=True)
class Submission:
    """A new application as the HTTP layer hands it over: the arrival, what it names, who may resend it."""

    arrival: application.Arrival
    item_code: str
    applicant_id_number: str
    applicant_phone: str | None  # already normalised to E.164; None when the agent below passes messages on
    idempotency_key: str | None = None
    request_hash: str = ""
    villages: frozenset[str] | None = None  # the township's village points, by the catalogue
    contact_agent_id: str | None = None  # the village agent who reaches an applicant without a mobile


@dataclass(frozen=True)
class Outcome:
    """What a command on an application did: its events, and the application after them."""

    case_id: UUID
    events: list[Envelope]
    state: application.Application
    replayed: bool = False


async def submit_case(pool: asyncpg.Pool, clock: Clock, *, sub: Submission, actor: Actor) -> Outcome:
    """A new application: numbered, then received for review, told what is missing, or accepted."""
    now = clock.now()
    arrival = sub.arrival
    if not domain.valid_id_number(sub.applicant_id_number):
        raise domain.InvalidIdCard()
    async with pool.acquire() as conn, conn.transaction():
        if sub.idempotency_key:
            earlier = await store.find_idempotent(conn, principal=actor.id, key=sub.idempotency_key)
            if earlier is not None:
                if earlier["request_hash"] != sub.request_hash:
                    raise IdempotencyKeyReused()
                stream = await load_stream(conn, earlier["case_id"])
                return Outcome(case_id=earlier["case_id"], events=stream, state=application.fold(stream),
                               replayed=True)
        prefix = await store.township_prefix(conn, arrival.township_id)
        if prefix is None:
            raise domain.UnknownTownship()
        item = await catalogue_store.load_item(conn, sub.item_code)
        if item is None:
            raise domain.UnknownItem()
        case_no = await store.next_case_no(conn, township_id=arrival.township_id, prefix=prefix,
                                           day=now.astimezone(SHANGHAI).date())
        decided = application.decide_arrival(arrival, item=item, case_no=case_no, now=now,
                                             calendar=default_calendar(), villages=sub.villages)
        case_id = new_event_id()
        events = await append(conn, source=SOURCE, case_id=case_id, township_id=arrival.township_id,
                              origin=Origin(actor=actor), events=decided, now=now)
        await case_view.project(conn, events)
        await store.insert_contact(conn, case_id=case_id, township_id=arrival.township_id, phone=sub.applicant_phone,
                                   at=now, agent_id=sub.contact_agent_id)
        if sub.idempotency_key:
            await store.remember_idempotent(conn, principal=actor.id, key=sub.idempotency_key,
                                            request_hash=sub.request_hash, case_id=case_id, at=now)
    return Outcome(case_id=case_id, events=events, state=application.fold(events))


async def review_case(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, faulty: tuple[application.Faulty, ...],
                      actor: Actor, may_see: Callable[[str], None]) -> Outcome:
    """Staff review materials received without the resident (online, village point)."""
    async def decide(conn: asyncpg.Connection, app: application.Application, row: asyncpg.Record,
                     now: datetime) -> list[NewEvent]:
        return application.decide_review(app, item=await _item_for(conn, row), faulty=faulty, now=now,
                                         calendar=default_calendar())
    return await _on_application(pool, clock, case_id=case_id, actor=actor, may_see=may_see, decide=decide)


async def supply_materials(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, supplied: tuple[str, ...],
                           faulty: tuple[application.Faulty, ...], additional: tuple[str, ...], actor: Actor,
                           may_see: Callable[[str], None]) -> Outcome:
    """补正: checked against the notice; a second notice only when the item's requirements changed."""
    async def decide(conn: asyncpg.Connection, app: application.Application, row: asyncpg.Record,
                     now: datetime) -> list[NewEvent]:
        # The item as it stood when the last notice was given: what changed since is all that may be added.
        previous = (await catalogue_store.load_item_version(conn, row["item_code"], app.notice_version)
                    if app.notice_version else None)
        return application.decide_supply(app, item=await _item_for(conn, row), previous=previous,
                                         supplied=supplied, faulty=faulty, additional=additional, now=now,
                                         calendar=default_calendar())
    return await _on_application(pool, clock, case_id=case_id, actor=actor, may_see=may_see, decide=decide)


async def reject_case(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, reason: str, legal_basis: str,
                      proposed_by: str | None, actor: Actor, may_see: Callable[[str], None]) -> Outcome:
    """不予受理, decided by the centre head (the access table lets no one else call this)."""
    async def decide(_: asyncpg.Connection, app: application.Application, *__: object) -> list[NewEvent]:
        return application.decide_rejection(app, reason=reason, legal_basis=legal_basis, proposed_by=proposed_by,
                                            approved_by=actor.id)
    return await _on_application(pool, clock, case_id=case_id, actor=actor, may_see=may_see, decide=decide)


async def hand_over(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, materials: tuple[str, ...], actor: Actor,
                    may_see: Callable[[str], None]) -> Outcome:
    async def decide(conn: asyncpg.Connection, app: application.Application, row: asyncpg.Record,
                     now: datetime) -> list[NewEvent]:
        return application.decide_handover(app, item=await _item_for(conn, row), received_by=actor.id,
                                           materials=materials, now=now)
    return await _on_application(pool, clock, case_id=case_id, actor=actor, may_see=may_see, decide=decide)


async def deliver_result(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, acknowledgement: Acknowledgement,
                         note: str, actor: Actor, may_see: Callable[[str], None]) -> Outcome:
    async def decide(_: asyncpg.Connection, app: application.Application, row: asyncpg.Record,
                     now: datetime) -> list[NewEvent]:
        return application.decide_delivery(app, completed=row["status"] == "completed", delivered_by=actor.id,
                                           by_agent=actor.kind == "village_agent", acknowledgement=acknowledgement,
                                           note=note, now=now)
    return await _on_application(pool, clock, case_id=case_id, actor=actor, may_see=may_see, decide=decide)


async def accept_next_lapsed(pool: asyncpg.Pool, clock: Clock) -> UUID | None:
    """One application whose notice period passed: accepted from its arrival by law, flagged. None if none."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        row = await store.claim_lapsed_review(conn, now)
        if row is None:
            return None
        app = application.fold(await load_stream(conn, row["case_id"]))
        decided = application.decide_lapse(app, item=await _item_for(conn, row), now=now,
                                           calendar=default_calendar())
        events = await append(conn, source=SOURCE, case_id=row["case_id"], township_id=row["township_id"],
                              origin=Origin(actor=Actor(kind="system", id="intake-notice-period")), events=decided,
                              now=now)
        await case_view.project(conn, events)
    return row["case_id"]


# A rule's call: it may read the catalogue through the connection; the case row is locked.
Decide = Callable[[asyncpg.Connection, application.Application, asyncpg.Record, datetime], Awaitable[list[NewEvent]]]


async def _on_application(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, actor: Actor,
                          may_see: Callable[[str], None], decide: Decide) -> Outcome:
    """Lock the case, fold its events, ask the rule, append and project, in one transaction."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        row = await store.lock_case_row(conn, case_id)
        if row is None:
            raise domain.CaseNotFound()
        may_see(row["township_id"])
        app = application.fold(await load_stream(conn, case_id))
        decided = await decide(conn, app, row, now)
        events = await append(conn, source=SOURCE, case_id=case_id, township_id=row["township_id"],
                              origin=Origin(actor=actor), events=decided, now=now)
        await case_view.project(conn, events)
    for event in events:
        app = application.evolve(app, event)
    return Outcome(case_id=case_id, events=events, state=app)


async def _item_for(conn: asyncpg.Connection, case: asyncpg.Record) -> Item:
    """The item as the catalogue in force has it; one taken out since goes on as the case last read it."""
    item = await catalogue_store.load_item(conn, case["item_code"])
    if item is None and case["catalogue_version"]:
        item = await catalogue_store.load_item_version(conn, case["item_code"], case["catalogue_version"])
    if item is None:
        raise domain.UnknownItem()
    return item


async def erase_contact(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, reason: str, actor: Actor,
                        may_see: Callable[[str], None]) -> ContactErased:
    """Erase the applicant's phone number here; the contact relay then publishes the tombstone."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        row = await store.lock_case_row(conn, case_id)
        if row is None:
            raise domain.CaseNotFound()
        township_id = row["township_id"]
        may_see(township_id)
        erased = await store.lock_contact_erased(conn, case_id)
        return await append_erasure(conn, stream_id=case_id, township_id=township_id, erased=bool(erased),
                                    reason=reason, actor=actor, now=now)


async def append_erasure(conn: asyncpg.Connection, *, stream_id: UUID, township_id: str, erased: bool, reason: str,
                         actor: Actor, now: datetime) -> ContactErased:
    """Records the erasure on the stream (a case's, a complaint's) and erases the number; the contact
    row is locked by the caller, and the contact relay then publishes the tombstone."""
    events = domain.decide_erase_contact(erased=erased, reason=reason)
    [event] = await append(conn, source=SOURCE, case_id=stream_id, township_id=township_id,
                           origin=Origin(actor=actor), events=events, now=now)
    await store.erase_contact(conn, stream_id, at=now)
    assert isinstance(event, ContactErased)
    return event


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
