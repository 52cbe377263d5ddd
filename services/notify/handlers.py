"""Notify's HTTP endpoints and Kafka subscribers: parse, authorise, call a command, answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from contracts.events import CaseCompleted, CaseSubmitted, DeadlineBreached
from services.kit.access import Grant, permit
from services.kit.service import Runtime
from services.notify import commands, domain, store
from services.notify.schemas import MessageView

router = APIRouter(prefix="/api/v1", tags=["notify"])


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("/messages", response_model=list[MessageView], summary="SMS sent or queued for one case (短信记录)")
async def get_messages(request: Request, grant: Annotated[Grant, Depends(permit("notify.list_messages"))],
                       case_id: Annotated[UUID, Query(description="The case whose messages to list.")]) -> list[MessageView]:
    async with _rt(request).pool.acquire() as conn:
        rows = await store.list_messages(conn, case_id)
    for township_id in {r["township_id"] for r in rows}:
        grant.township(township_id)
    return [MessageView(id=r["message_id"], phone=domain.mask_phone(r["phone"]),
                        **{k: r[k] for k in MessageView.model_fields if k not in ("id", "phone")}) for r in rows]


def subscribe(runtime: Runtime) -> None:
    # One subscriber per topic: a CaseCompleted waiting for its contact must not hold up the
    # CaseSubmitted consumer that brings it.
    clock = runtime.clock

    async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted) -> None:
        await commands.on_case_submitted(conn, event, now=clock.now())

    async def on_case_completed(conn: asyncpg.Connection, event: CaseCompleted) -> None:
        await commands.on_case_completed(conn, event, now=clock.now())

    async def on_deadline_breached(conn: asyncpg.Connection, event: DeadlineBreached) -> None:
        await commands.on_deadline_breached(conn, event, now=clock.now())

    runtime.inbox.subscribe([CaseSubmitted.TOPIC], on_case_submitted,
                            description="Keeps the case's contact and tells the resident the case was taken in.")
    runtime.inbox.subscribe([CaseCompleted.TOPIC], on_case_completed,
                            description="Tells the resident the result of the case.")
    runtime.inbox.subscribe([DeadlineBreached.TOPIC], on_deadline_breached,
                            description="Tells the duty staff of the department (or the centre head) a case is late.")
