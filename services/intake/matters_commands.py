"""Use cases of consultations, complaints and referrals: check, ask the rules, append the events and
the rows in one transaction; and follow routing's answer to a complaint."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Envelope, Source, new_event_id
from contracts.events import CaseReferred, ComplaintAnswered, ComplaintRegistered, ConsultationLogged, ContactErased
from contracts.workdays import SHANGHAI, default_calendar
from services.intake import catalogue_store, commands, domain, matters, store
from services.intake import matters_store as mstore
from services.intake.items import Item
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append

log = logging.getLogger(__name__)
SOURCE: Source = "intake"


async def _checked_township_and_item(conn: asyncpg.Connection, township_id: str,
                                     item_code: str | None) -> tuple[str, Item | None]:
    """The township's number prefix and the item, when one is named; a named one must exist."""
    prefix = await store.township_prefix(conn, township_id)
    if prefix is None:
        raise domain.UnknownTownship()
    item = await catalogue_store.load_item(conn, item_code) if item_code is not None else None
    if item_code is not None and item is None:
        raise domain.UnknownItem()
    return prefix, item


async def log_consultation(pool: asyncpg.Pool, clock: Clock, *, cmd: matters.LogConsultation,
                           actor: Actor) -> ConsultationLogged:
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        _, item = await _checked_township_and_item(conn, cmd.township_id, cmd.item_code)
        events = matters.decide_consultation(cmd, item=item)
        [logged] = await append(conn, source=SOURCE, case_id=new_event_id(), township_id=cmd.township_id,
                                origin=Origin(actor=actor), events=events, now=now)
        assert isinstance(logged, ConsultationLogged)
        await mstore.insert_consultation(conn, consultation_id=logged.case_id, township_id=cmd.township_id, at=now,
                                         day=now.astimezone(SHANGHAI).date(), payload=logged.payload)
    return logged


async def register_complaint(pool: asyncpg.Pool, clock: Clock, *, cmd: matters.RegisterComplaint, answer_days: int,
                             actor: Actor) -> ComplaintRegistered:
    """Number it, fix its answer_due on the working-day calendar; the phone goes to the contact path."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        prefix, _ = await _checked_township_and_item(conn, cmd.township_id, None)
        if cmd.about_case_id is not None and await mstore.case_township(conn, cmd.about_case_id) != cmd.township_id:
            raise matters.ConcernedCaseNotFound()
        day = now.astimezone(SHANGHAI).date()
        number = matters.complaint_no(prefix, cmd.kind, day,
                                      await mstore.next_complaint_number(conn, township_id=cmd.township_id, day=day))
        due = matters.answer_due(default_calendar(), now, answer_days)
        events = matters.decide_complaint(cmd, number=number, due=due)
        [registered] = await append(conn, source=SOURCE, case_id=new_event_id(), township_id=cmd.township_id,
                                    origin=Origin(actor=actor), events=events, now=now)
        assert isinstance(registered, ComplaintRegistered)
        await mstore.insert_complaint(conn, complaint_id=registered.case_id, township_id=cmd.township_id, at=now,
                                      payload=registered.payload)
        if cmd.complainant_phone is not None:
            await store.insert_contact(conn, case_id=registered.case_id, township_id=cmd.township_id,
                                       phone=cmd.complainant_phone, at=now)
    return registered


async def refer_matter(pool: asyncpg.Pool, clock: Clock, *, cmd: matters.ReferMatter,
                       actor: Actor) -> tuple[CaseReferred, Item | None]:
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        _, item = await _checked_township_and_item(conn, cmd.township_id, cmd.item_code)
        events = matters.decide_referral(cmd, item=item)
        [referred] = await append(conn, source=SOURCE, case_id=new_event_id(), township_id=cmd.township_id,
                                  origin=Origin(actor=actor), events=events, now=now)
    assert isinstance(referred, CaseReferred)
    return referred, item


async def erase_complainant_contact(pool: asyncpg.Pool, clock: Clock, *, complaint_id: UUID, reason: str, actor: Actor,
                                    may_see: Callable[[str], None]) -> ContactErased:
    """个人信息删除 for a complainant, as for an applicant: the contact relay then publishes the tombstone."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        township_id = await mstore.lock_complaint_township(conn, complaint_id)
        if township_id is None:
            raise matters.ComplaintNotFound()
        may_see(township_id)
        erased = await store.lock_contact_erased(conn, complaint_id)
        if erased is None:
            raise matters.NoComplainantContact()
        if erased:
            raise domain.ContactAlreadyErased("该投诉或举报人的联系方式已删除")
        return await commands.append_erasure(conn, stream_id=complaint_id, township_id=township_id, erased=False,
                                             reason=reason, actor=actor, now=now)


async def apply_complaint_answered(conn: asyncpg.Connection, event: Envelope) -> None:
    """Follow routing's answer so staff see the complaint's state (inside the inbox transaction)."""
    assert isinstance(event, ComplaintAnswered)
    if not await mstore.mark_answered(conn, event.case_id, at=event.occurred_at, payload=event.payload):
        # Routing answers only what it heard of from here, once: another system's complaint on a
        # shared broker, or a second answer event, changes nothing and is not worth a retry.
        log.warning("answer for a complaint intake does not hold open; nothing to update",
                    extra={"case_id": str(event.case_id), "event_id": str(event.event_id)})
