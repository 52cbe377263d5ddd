"""Routing's HTTP endpoints and Kafka subscribers: parse, authorise, call a command, answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from contracts.envelope import Actor
from contracts.events import CaseRated, CaseSubmitted, ComplaintRegistered, MaterialsSupplied, ToleratedMaterialDue
from contracts.topics import INTAKE_CASES
from services.kit.access import Grant, permit
from services.kit.errors import ApiError, error_responses
from services.kit.fields import Code
from services.routing import commands, complaints_commands, domain, follow_up_commands, store
from services.routing.deps import RoutingRuntime, runtime_of
from services.routing.domain import CaseState
from services.routing.follow_up import FollowUpLimits
from services.routing.schemas import CaseList, CaseView, CompleteCaseRequest, TransferCaseRequest

router = APIRouter(prefix="/api/v1", tags=["routing"])
QUEUE_LIMIT = 200



def view_of(state: CaseState, now: datetime) -> CaseView:
    fields = {k: v for k, v in asdict(state).items() if k in CaseView.model_fields}
    return CaseView(**fields, overdue=domain.is_overdue(state, now=now), paused=state.paused)


def actor_of(grant: Grant) -> Actor:
    return Actor(kind=grant.principal.role, id=grant.principal.sub)


def may_act(grant: Grant) -> Callable[[CaseState], None]:
    """The check that the caller may act on a case: its township, and for staff its holder or department."""
    def check(state: CaseState) -> None:
        grant.case(township_id=state.township_id, department_code=state.department_code, staff_id=state.staff_id)
    return check


@router.get("/cases/{case_id}", response_model=CaseView, summary="A case as department staff see it",
            responses=error_responses(401, 403, 404, 422))
async def get_case(case_id: UUID, request: Request,
                   grant: Annotated[Grant, Depends(permit("routing.read_case"))]) -> CaseView:
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:
        state = await store.get_case(conn, case_id)
    if state is None:
        raise ApiError(404, "CASE_NOT_FOUND", "办件不存在或尚未分办")
    grant.township(state.township_id)
    return view_of(state, rt.clock.now())


@router.get("/cases", response_model=CaseList, summary="Work queue: a township's open cases, nearest deadline first",
            responses=error_responses(401, 403, 422))
async def list_cases(request: Request, grant: Annotated[Grant, Depends(permit("routing.list_queue"))],
                     status: Literal["open"] = "open",
                     township_id: Annotated[Code | None, Query(description="Needed by county-wide roles.")] = None,
                     ) -> CaseList:
    township = grant.listing_township(township_id)
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:
        states = await store.list_open(conn, township_id=township, limit=QUEUE_LIMIT)
    now = rt.clock.now()
    return CaseList(cases=[view_of(s, now) for s in states])


@router.post("/cases/{case_id}/transfer", response_model=CaseView, summary="Pass a case to another department (转办)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_transfer(case_id: UUID, body: TransferCaseRequest, request: Request,
                        grant: Annotated[Grant, Depends(permit("routing.transfer_case"))]) -> CaseView:
    rt = runtime_of(request)
    state = await commands.transfer_case(
        rt.pool, rt.clock, rt.deps.alert_policy, case_id=case_id, actor=actor_of(grant),
        cmd=domain.TransferCase(to_department_code=body.to_department_code, reason=body.reason),
        may_act=may_act(grant))
    return view_of(state, rt.clock.now())


@router.post("/cases/{case_id}/complete", response_model=CaseView, summary="Decide and close a case (办结)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_complete(case_id: UUID, body: CompleteCaseRequest, request: Request,
                        grant: Annotated[Grant, Depends(permit("routing.complete_case"))]) -> CaseView:
    rt = runtime_of(request)
    state = await commands.complete_case(
        rt.pool, rt.clock, rt.deps.alert_policy, case_id=case_id, actor=actor_of(grant),
        cmd=domain.CompleteCase(result=body.result, note=body.note),
        may_act=may_act(grant))
    return view_of(state, rt.clock.now())


def subscribe(runtime: RoutingRuntime) -> None:
    policy = runtime.deps.alert_policy

    async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted) -> None:
        await commands.assign_submitted(conn, runtime.clock, policy, event=event)

    async def on_complaint(conn: asyncpg.Connection, event: ComplaintRegistered) -> None:
        await complaints_commands.hold_registered(conn, policy, event)

    async def on_tolerated(conn: asyncpg.Connection, event: ToleratedMaterialDue) -> None:
        await commands.owe_materials(conn, policy, event=event)

    async def on_supplied(conn: asyncpg.Connection, event: MaterialsSupplied) -> None:
        await commands.materials_brought(conn, event=event)

    limits = FollowUpLimits(runtime.settings.follow_up_visit_days, runtime.settings.follow_up_rectification_days)

    async def on_rated(conn: asyncpg.Connection, event: CaseRated) -> None:
        await follow_up_commands.open_on_rating(conn, runtime.clock, policy, limits, event)

    runtime.inbox.subscribe(INTAKE_CASES, {CaseSubmitted: on_case_submitted, ComplaintRegistered: on_complaint,
                                           ToleratedMaterialDue: on_tolerated,
                                           MaterialsSupplied: on_supplied, CaseRated: on_rated}, start="earliest",
                            description="Assigns each case taken in to its department and a staff member (分办), "
                            "holds each complaint for investigation, watches tolerated materials owed, and opens "
                            "a follow-up on each bad rating (差评回访).")
