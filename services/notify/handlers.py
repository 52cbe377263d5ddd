"""Notify's HTTP endpoints and Kafka subscribers: parse, authorise, call a command, answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from contracts.contacts import CaseContact, StaffContact, parse_contact, parse_staff_contact
from contracts.envelope import Envelope
from contracts.events import (
    CaseAssigned,
    CaseCompleted,
    CaseFlagged,
    CaseRated,
    CaseSubmitted,
    CaseTransferred,
    ClockPaused,
    ClockResumed,
    ComplaintRegistered,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineRecalculated,
    DeadlineWarning,
    MaterialsRequested,
)
from contracts.personal_data import mask_phone
from contracts.topics import INTAKE_CASES, INTAKE_CONTACTS, ROUTING_CASES, ROUTING_STAFF_CONTACTS
from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.inbox import RecordRoute
from services.notify import commands, follow_up_notices, store
from services.notify.deps import NotifyRuntime
from services.notify.schemas import MessageView

router = APIRouter(prefix="/api/v1", tags=["notify"])


def _rt(request: Request) -> NotifyRuntime:
    return request.app.state.runtime


@router.get("/messages", response_model=list[MessageView], summary="SMS sent or queued for one case (短信记录)",
            responses=error_responses(401, 403, 422))
async def get_messages(request: Request, grant: Annotated[Grant, Depends(permit("notify.list_messages"))],
                       case_id: Annotated[UUID, Query(description="The case whose messages to list.")]) -> list[MessageView]:
    async with _rt(request).pool.acquire() as conn:
        rows = await store.list_messages(conn, case_id)
    for township_id in {r["township_id"] for r in rows}:
        grant.township(township_id)
    return [MessageView(id=r["message_id"], phone=mask_phone(r["phone"]),
                        **{k: r[k] for k in MessageView.model_fields if k not in ("id", "phone")}) for r in rows]


def subscribe(runtime: NotifyRuntime) -> None:
    # One consumer per topic: none waits behind another, and a parked event holds none of them.
    # The clock is read from the runtime at each call: a test may replace it after the app is built.
    max_age = timedelta(hours=runtime.settings.max_event_age_hours)

    async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted | MaterialsRequested) -> None:
        await commands.on_case_submitted(conn, event, now=runtime.clock.now(), max_age=max_age)

    async def on_routing_event(conn: asyncpg.Connection, event: Envelope) -> None:
        await commands.on_case_event(conn, event, now=runtime.clock.now(), max_age=max_age)

    async def on_contact(conn: asyncpg.Connection, record: tuple[UUID, CaseContact | None]) -> None:
        await commands.on_contact(conn, *record, now=runtime.clock.now(), max_age=max_age)


    runtime.inbox.subscribe_records(INTAKE_CONTACTS, RecordRoute(parse=parse_contact, apply=on_contact, personal=True),
                                    start="earliest",
                                    description="Keeps each applicant's number, and erases it on a tombstone.")
    async def on_deadline_event(conn: asyncpg.Connection,
                                event: DeadlineWarning | DeadlineBreached | ComplaintRegistered) -> None:
        await commands.on_deadline_event(conn, event, now=runtime.clock.now(), max_age=max_age)

    async def on_staff_contact(conn: asyncpg.Connection, record: tuple[str, StaffContact | None]) -> None:
        await commands.on_staff_contact(conn, *record, now=runtime.clock.now())

    # The bad-rating loop (docs/adr/0036-rating-loop-messages.md) waits for its case like the case's own events.
    case_events = (CaseCompleted, CaseFlagged, DeadlineExtended, DeadlineRecalculated, ClockPaused, ClockResumed,
                   CaseAssigned, CaseTransferred, *follow_up_notices.EVENTS)
    runtime.inbox.subscribe(ROUTING_CASES, {**dict.fromkeys(case_events, on_routing_event),
                                            DeadlineWarning: on_deadline_event, DeadlineBreached: on_deadline_event},
                            start="earliest",
                            description="Tells the resident the result of the case and any change of its deadline; "
                                        "tells the holder and the centre head of warnings and breaches, and the centre "
                                        "head of a case passed back and forth; carries a bad rating's follow-up to "
                                        "the resident, its owner and the centre head.")
    # Intake's events (docs/adr/0029-sms-templates.md): the case, the one-time notice, a bad rating, a complaint.
    runtime.inbox.subscribe(INTAKE_CASES, {CaseSubmitted: on_case_submitted, MaterialsRequested: on_case_submitted,
                                           CaseRated: on_routing_event, ComplaintRegistered: on_deadline_event},
                            start="earliest",
                            description="Keeps the case and tells the resident the case was taken in, or every "
                                        "material still missing; tells the centre head of a bad rating and of a "
                                        "complaint to investigate.")
    runtime.inbox.subscribe_records(ROUTING_STAFF_CONTACTS,
                                    RecordRoute(parse=parse_staff_contact, apply=on_staff_contact, personal=True),
                                    start="earliest",
                                    description="Keeps each staff member's number, and forgets it when they leave.")
