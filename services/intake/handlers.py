"""Intake's HTTP endpoints and Kafka subscribers: parse, authorise, call a command, answer."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from contracts.envelope import Actor
from contracts.events import (
    CaseAssigned,
    CaseCompleted,
    CaseTransferred,
    ClockPaused,
    ClockResumed,
    ComplaintAnswered,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineRecalculated,
)
from contracts.personal_data import mask_id_number
from contracts.rating_events import RectificationRecorded
from contracts.topics import ROUTING_CASES
from services.intake import (
    agent_contact,
    application,
    case_view,
    commands,
    matters_commands,
    rating_commands,
    second_rating_commands,
    store,
)
from services.intake.deps import IntakeRuntime, runtime_of
from services.intake.schemas import (
    ApplicationResponse,
    CasePage,
    CaseSummary,
    CaseView,
    DeliveryRequest,
    EraseContactRequest,
    EraseContactResponse,
    EventResponse,
    FaultyMaterial,
    HandoverRequest,
    OwedView,
    RejectRequest,
    ReviewRequest,
    SubmitCaseRequest,
    SupplyRequest,
)
from services.kit.access import Grant, permit
from services.kit.errors import ApiError, error_responses
from services.kit.fields import Code

router = APIRouter(prefix="/api/v1", tags=["intake"])



IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=64, pattern=r"^[A-Za-z0-9_.:-]{8,64}$",
    description="Any 8-64 ASCII characters chosen by the client: a resent submission with the same key and body "
    "returns the case it made instead of taking the resident in twice.")]


@router.post("/cases", status_code=201, response_model=ApplicationResponse,
             summary="Take an application in (受理): accepted, told at once what is missing (一次性告知), or "
             "received for review", responses=error_responses(401, 403, 404, body=True))
async def post_case(body: SubmitCaseRequest, request: Request, response: Response,
                    grant: Annotated[Grant, Depends(permit("intake.submit_case"))],
                    idempotency_key: IdempotencyKey = None) -> ApplicationResponse:
    grant.township(body.township_id)
    me = grant.principal
    arrival = application.Arrival(
        township_id=body.township_id, channel=body.channel, village_id=body.village_id,
        agent_id=me.sub if me.role == "village_agent" else None,
        first_contact_staff_id=me.sub if me.role in ("staff", "centre_head") else None,
        applicant_name=body.applicant.name, applicant_id_masked=mask_id_number(body.applicant.id_number),
        provided=tuple(body.materials), faulty=_faulty(body.faulty))
    phone, contact_agent = agent_contact.reach(phone=body.applicant.phone, agent_id=arrival.agent_id)
    sub = commands.Submission(
        arrival=arrival, item_code=body.item_code, applicant_id_number=body.applicant.id_number,
        applicant_phone=phone, idempotency_key=idempotency_key,
        request_hash=hashlib.sha256(body.model_dump_json().encode()).hexdigest(),
        villages=_villages(request, body.township_id), contact_agent_id=contact_agent)
    rt = runtime_of(request)
    outcome = await commands.submit_case(rt.pool, rt.clock, sub=sub, actor=_actor(grant))
    if outcome.replayed:
        response.status_code = 200
    return ApplicationResponse.of(outcome.case_id, outcome.state, replayed=outcome.replayed)


@router.post("/cases/{case_id}/review", response_model=ApplicationResponse,
             summary="Review materials received without the resident: notice or acceptance within 5 working days",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_review(case_id: UUID, body: ReviewRequest, request: Request,
                      grant: Annotated[Grant, Depends(permit("intake.review_case"))]) -> ApplicationResponse:
    rt = runtime_of(request)
    outcome = await commands.review_case(rt.pool, rt.clock, case_id=case_id, faulty=_faulty(body.faulty),
                                         actor=_actor(grant), may_see=grant.township)
    return ApplicationResponse.of(case_id, outcome.state)


@router.post("/cases/{case_id}/materials", response_model=ApplicationResponse,
             summary="Materials brought after a notice (补正) or tolerated ones owed (容缺)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_materials(case_id: UUID, body: SupplyRequest, request: Request,
                         grant: Annotated[Grant, Depends(permit("intake.supply_materials"))]) -> ApplicationResponse:
    rt = runtime_of(request)
    outcome = await commands.supply_materials(
        rt.pool, rt.clock, case_id=case_id, supplied=tuple(body.materials), faulty=_faulty(body.faulty),
        additional=tuple(body.additional), actor=_actor(grant), may_see=grant.township)
    return ApplicationResponse.of(case_id, outcome.state)


@router.post("/cases/{case_id}/rejection", response_model=ApplicationResponse,
             summary="Refuse at intake (不予受理): the centre head only, with reason and legal basis (无否决权)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_rejection(case_id: UUID, body: RejectRequest, request: Request,
                         grant: Annotated[Grant, Depends(permit("intake.reject_at_intake"))]) -> ApplicationResponse:
    rt = runtime_of(request)
    outcome = await commands.reject_case(rt.pool, rt.clock, case_id=case_id, reason=body.reason,
                                         legal_basis=body.legal_basis, proposed_by=body.proposed_by,
                                         actor=_actor(grant), may_see=grant.township)
    return ApplicationResponse.of(case_id, outcome.state)


@router.post("/cases/{case_id}/handover", response_model=EventResponse, status_code=201,
             summary="Record the paper materials a village agent hands to the centre (交接)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_handover(case_id: UUID, body: HandoverRequest, request: Request,
                        grant: Annotated[Grant, Depends(permit("intake.hand_over"))]) -> EventResponse:
    rt = runtime_of(request)
    outcome = await commands.hand_over(rt.pool, rt.clock, case_id=case_id, materials=tuple(body.materials),
                                       actor=_actor(grant), may_see=grant.township)
    return _event_response(outcome)


@router.post("/cases/{case_id}/delivery", response_model=EventResponse, status_code=201,
             summary="Record the result's delivery to the resident and their acknowledgement (送达)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_delivery(case_id: UUID, body: DeliveryRequest, request: Request,
                        grant: Annotated[Grant, Depends(permit("intake.deliver_result"))]) -> EventResponse:
    rt = runtime_of(request)
    outcome = await commands.deliver_result(rt.pool, rt.clock, case_id=case_id, acknowledgement=body.acknowledgement,
                                            note=body.note, actor=_actor(grant), may_see=grant.township)
    return _event_response(outcome)


CaseStatus = Literal["received", "materials_requested", "submitted", "assigned", "completed", "rejected"]


@router.get("/cases", response_model=CasePage, summary="A township's cases for the supervisor: by status, and "
            "flagged for a second notice, a missed review period or tolerated materials overdue",
            responses=error_responses(401, 403, 422))
async def list_cases(request: Request, grant: Annotated[Grant, Depends(permit("intake.list_cases"))],
                     township_id: Annotated[Code | None, Query(description="Needed by county-wide roles.")] = None,
                     status: CaseStatus | None = None,
                     flag: Literal["second_notice", "deemed_accepted", "tolerated_overdue"] | None = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> CasePage:
    township = grant.listing_township(township_id)
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:
        total, rows = await store.list_cases(conn, township_id=township, status=status, flag=flag,
                                             now=rt.clock.now(), limit=limit, offset=offset)
    return CasePage(total=total, limit=limit, offset=offset,
                    cases=[CaseSummary(**{k: r[k] for k in CaseSummary.model_fields}) for r in rows])


@router.get("/cases/{case_id}", response_model=CaseView, summary="A case as the window sees it, with what it owes",
            responses=error_responses(401, 403, 404, 422))
async def get_case(case_id: UUID, request: Request,
                   grant: Annotated[Grant, Depends(permit("intake.read_case"))]) -> CaseView:
    async with runtime_of(request).pool.acquire() as conn:
        row = await store.get_case(conn, case_id)
        if row is None:
            raise ApiError(404, "CASE_NOT_FOUND", "办件不存在")
        grant.township(row["township_id"])
        owed = await case_view.owed_materials(conn, case_id)
    return CaseView(**{k: row[k] for k in CaseView.model_fields if k != "owed"}, owed=[OwedView(**o) for o in owed])


def _villages(request: Request, township_id: str) -> frozenset[str]:
    township = request.app.state.catalogue.file.township(township_id)
    return frozenset(v.village_id for v in township.villages) if township else frozenset()


def _actor(grant: Grant) -> Actor:
    return Actor(kind=grant.principal.role, id=grant.principal.sub)


def _faulty(items: list[FaultyMaterial]) -> tuple[application.Faulty, ...]:
    return tuple(application.Faulty(code=f.code, note=f.note) for f in items)


def _event_response(outcome: commands.Outcome) -> EventResponse:
    [event] = outcome.events
    return EventResponse(case_id=outcome.case_id, event_id=event.event_id, occurred_at=event.occurred_at)


@router.post("/cases/{case_id}/contact-erasure", response_model=EraseContactResponse,
             summary="Erase the applicant's phone number (个人信息删除); the case history stays whole",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_contact_erasure(case_id: UUID, body: EraseContactRequest, request: Request,
                               grant: Annotated[Grant, Depends(permit("intake.erase_contact"))]) -> EraseContactResponse:
    rt = runtime_of(request)
    event = await commands.erase_contact(rt.pool, rt.clock, case_id=case_id, reason=body.reason,
                                         actor=_actor(grant), may_see=grant.township)
    return EraseContactResponse(case_id=case_id, erased_at=event.occurred_at)


def subscribe(runtime: IntakeRuntime) -> None:
    apply = commands.apply_routing_event
    # A completion also issues the rating link, in the same transaction.
    links = rating_commands.link_policy(runtime.settings)
    completed = rating_commands.with_link_on_completion(apply, links, runtime.clock)
    runtime.inbox.subscribe(
        ROUTING_CASES, {CaseAssigned: apply, CaseTransferred: apply, CaseCompleted: completed, DeadlineBreached: apply,
                        ComplaintAnswered: matters_commands.apply_complaint_answered,
                        # The deadline clock: the status page shows a pause, and the deadline as it moves.
                        ClockPaused: apply, ClockResumed: apply, DeadlineExtended: apply, DeadlineRecalculated: apply,
                        # A rectification asking the resident to rate again opens the second round (ADR 36).
                        RectificationRecorded: second_rating_commands.on_rectification(
                            links.secret, timedelta(days=runtime.settings.rating_again_link_ttl_days), runtime.clock)},
        start="earliest", description="Keeps the resident-facing status of each case, and of each complaint, current.",
    )
