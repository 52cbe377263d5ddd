"""Routing's HTTP endpoints and Kafka subscribers: parse, authorise, call a command, answer."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request

from contracts.envelope import Actor
from contracts.events import CaseSubmitted
from contracts.topics import INTAKE_CASES
from services.kit.auth import CurrentPrincipal, Principal, require_role, require_township
from services.kit.errors import ApiError, error_responses
from services.kit.fields import Code
from services.kit.service import Runtime
from services.routing import commands, domain, store
from services.routing.deps import RoutingDeps
from services.routing.domain import CaseState
from services.routing.schemas import CaseList, CaseView, CompleteCaseRequest, TransferCaseRequest

router = APIRouter(prefix="/api/v1", tags=["routing"])
HANDLERS = ("staff", "centre_head")
QUEUE_LIMIT = 200


def _rt(request: Request) -> Runtime[RoutingDeps]:
    return request.app.state.runtime


def _view(state: CaseState, now: datetime) -> CaseView:
    fields = {k: v for k, v in asdict(state).items() if k in CaseView.model_fields}
    return CaseView(**fields, overdue=domain.is_overdue(state, now=now))


def _actor(principal: Principal) -> Actor:
    return Actor(kind=principal.role, id=principal.sub)


@router.get("/cases/{case_id}", response_model=CaseView, summary="A case as department staff see it",
            responses=error_responses(401, 403, 404, 422))
async def get_case(case_id: UUID, request: Request, principal: CurrentPrincipal) -> CaseView:
    rt = _rt(request)
    async with rt.pool.acquire() as conn:
        state = await store.get_case(conn, case_id)
    if state is None:
        raise ApiError(404, "CASE_NOT_FOUND", "办件不存在或尚未分办")
    require_township(principal, state.township_id)
    return _view(state, rt.clock.now())


@router.get("/cases", response_model=CaseList, summary="Work queue: a township's open cases, latest deadline first",
            responses=error_responses(401, 403, 422))
async def list_cases(request: Request, principal: CurrentPrincipal, status: Literal["open"] = "open",
                     township_id: Annotated[Code | None, Query(description="Needed by county-wide roles.")] = None,
                     ) -> CaseList:
    township = township_id or principal.township_id
    if township is None:
        raise ApiError(422, "TOWNSHIP_REQUIRED", "请指定要查看的乡镇（township_id）")
    require_township(principal, township)
    rt = _rt(request)
    async with rt.pool.acquire() as conn:
        states = await store.list_open(conn, township_id=township, limit=QUEUE_LIMIT)
    now = rt.clock.now()
    return CaseList(cases=[_view(s, now) for s in states])


@router.post("/cases/{case_id}/transfer", response_model=CaseView, summary="Pass a case to another department (转办)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_transfer(case_id: UUID, body: TransferCaseRequest, request: Request,
                        principal: CurrentPrincipal) -> CaseView:
    require_role(principal, *HANDLERS)
    rt = _rt(request)
    state = await commands.transfer_case(
        rt.pool, rt.clock, case_id=case_id, actor=_actor(principal),
        cmd=domain.TransferCase(to_department_code=body.to_department_code, reason=body.reason),
        may_see=lambda township: require_township(principal, township))
    return _view(state, rt.clock.now())


@router.post("/cases/{case_id}/complete", response_model=CaseView, summary="Decide and close a case (办结)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_complete(case_id: UUID, body: CompleteCaseRequest, request: Request,
                        principal: CurrentPrincipal) -> CaseView:
    require_role(principal, *HANDLERS)
    rt = _rt(request)
    state = await commands.complete_case(
        rt.pool, rt.clock, case_id=case_id, actor=_actor(principal),
        cmd=domain.CompleteCase(result=body.result, note=body.note),
        may_see=lambda township: require_township(principal, township))
    return _view(state, rt.clock.now())


def subscribe(runtime: Runtime[RoutingDeps]) -> None:
    async def on_case_submitted(conn: asyncpg.Connection, event: CaseSubmitted) -> None:
        await commands.assign_submitted(conn, runtime.clock, event=event)

    runtime.inbox.subscribe(INTAKE_CASES, {CaseSubmitted: on_case_submitted}, start="earliest",
                            description="Assigns each case taken in to its department and a staff member (分办).")
