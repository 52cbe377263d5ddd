"""Intake's HTTP endpoints and Kafka subscribers: parse, authorise, call a command, answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from contracts.envelope import Actor
from contracts.events import CaseAssigned, CaseCompleted, CaseTransferred, DeadlineBreached
from contracts.topics import ROUTING_CASES
from services.intake import commands, domain, rating_commands, store
from services.intake.deps import IntakeRuntime
from services.intake.schemas import (
    CaseView,
    EraseContactRequest,
    EraseContactResponse,
    SubmitCaseRequest,
    SubmitCaseResponse,
)
from services.kit.access import Grant, permit
from services.kit.errors import ApiError, error_responses
from services.kit.service import Runtime

router = APIRouter(prefix="/api/v1", tags=["intake"])


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("/townships", summary="Township centres of the county", responses=error_responses(401))
async def get_townships(request: Request, _: Annotated[Grant, Depends(permit("intake.list_townships"))]) -> list[dict]:
    async with _rt(request).pool.acquire() as conn:
        return await store.list_townships(conn)


@router.get("/catalogue", summary="Service catalogue (服务事项目录) with materials and limits",
            responses=error_responses(401))
async def get_catalogue(request: Request, _: Annotated[Grant, Depends(permit("intake.read_catalogue"))]) -> list[dict]:
    async with _rt(request).pool.acquire() as conn:
        return await store.list_items(conn)


@router.post("/cases", status_code=201, response_model=SubmitCaseResponse, summary="Take a case in (受理)",
             responses=error_responses(401, 403, 404, body=True))
async def post_case(body: SubmitCaseRequest, request: Request,
                    grant: Annotated[Grant, Depends(permit("intake.submit_case"))]) -> SubmitCaseResponse:
    grant.township(body.township_id)
    principal = grant.principal
    cmd = domain.SubmitCase(
        township_id=body.township_id, item_code=body.item_code, applicant_name=body.applicant.name,
        applicant_id_number=body.applicant.id_number, applicant_phone=body.applicant.phone,
        channel=body.channel, village_id=body.village_id, materials_provided=tuple(body.materials),
    )
    rt = _rt(request)
    event = await commands.submit_case(rt.pool, rt.clock, cmd=cmd, actor=Actor(kind=principal.role, id=principal.sub))
    return SubmitCaseResponse(case_id=event.case_id, case_no=event.payload.case_no, status="submitted",
                              promised_deadline=event.payload.promised_deadline,
                              materials_tolerated_missing=event.payload.materials_tolerated_missing)


@router.get("/cases/{case_id}", response_model=CaseView, summary="A case as the resident sees it",
            responses=error_responses(401, 403, 404, 422))
async def get_case(case_id: UUID, request: Request,
                   grant: Annotated[Grant, Depends(permit("intake.read_case"))]) -> CaseView:
    async with _rt(request).pool.acquire() as conn:
        row = await store.get_case(conn, case_id)
    if row is None:
        raise ApiError(404, "CASE_NOT_FOUND", "办件不存在")
    grant.township(row["township_id"])
    return CaseView(**{k: row[k] for k in CaseView.model_fields})


@router.post("/cases/{case_id}/contact-erasure", response_model=EraseContactResponse,
             summary="Erase the applicant's phone number (个人信息删除); the case history stays whole",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_contact_erasure(case_id: UUID, body: EraseContactRequest, request: Request,
                               grant: Annotated[Grant, Depends(permit("intake.erase_contact"))]) -> EraseContactResponse:
    rt = _rt(request)
    event = await commands.erase_contact(rt.pool, rt.clock, case_id=case_id, reason=body.reason,
                                         actor=Actor(kind=grant.principal.role, id=grant.principal.sub),
                                         may_see=grant.township)
    return EraseContactResponse(case_id=case_id, erased_at=event.occurred_at)


def subscribe(runtime: IntakeRuntime) -> None:
    apply = commands.apply_routing_event
    # Then, in the same transaction, the department's name for the status page and a rating link on completion.
    routed = rating_commands.following_routing(apply, rating_commands.link_policy(runtime.settings), runtime.clock)
    runtime.inbox.subscribe(
        ROUTING_CASES, {CaseAssigned: routed, CaseTransferred: routed, CaseCompleted: routed, DeadlineBreached: apply},
        start="earliest", description="Keeps the resident-facing status of each case current.",
    )
