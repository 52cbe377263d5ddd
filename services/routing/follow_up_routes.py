"""Routing's follow-up endpoints (差评回访与整改): the visit, the rectification, the appeal and its decision,
and the lists of the owner and the centre head."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from contracts.envelope import Actor
from services.kit.access import Grant, permit
from services.kit.errors import ApiError, error_responses
from services.kit.fields import Code
from services.routing import follow_up, follow_up_commands, store
from services.routing import follow_up_store as fstore
from services.routing.deps import RoutingRuntime, runtime_of
from services.routing.follow_up import FollowUpState, Rectification, Visit
from services.routing.follow_up_schemas import (
    AppealDecisionRequest,
    AppealRequest,
    FollowUpList,
    FollowUpView,
    RectificationRequest,
    VisitRequest,
)

router = APIRouter(prefix="/api/v1", tags=["follow-ups"])
LIST_LIMIT = 200
STEP = "/cases/{case_id}/follow-ups/{rating_event_id}"
STEP_ERRORS = error_responses(401, 403, 404, 409, body=True)


def _view(rt: RoutingRuntime, state: FollowUpState, now: datetime) -> FollowUpView:
    policy = rt.deps.alert_policy
    light = follow_up.colour(state, now=now, calendar=policy.calendar,
                             warning_days=policy.warning_days_for(state.township_id))
    return FollowUpView(**{**asdict(state), "evidence": list(state.evidence)}, stage=state.stage, colour=light,
                        next_due=state.next_due)


def _owner_or_head(grant: Grant):
    def check(state: FollowUpState) -> None:
        grant.township(state.township_id)
        follow_up.check_may_act(state, caller_id=grant.principal.sub,
                                caller_is_head=grant.principal.role == "centre_head")
    return check


async def _step(request: Request, grant: Grant, case_id: UUID, rating_event_id: UUID, decide, may_act=None,
                ) -> FollowUpView:
    rt = runtime_of(request)
    state = await follow_up_commands.act(
        rt.pool, rt.clock, case_id=case_id, rating_event_id=rating_event_id,
        actor=Actor(kind=grant.principal.role, id=grant.principal.sub),
        may_act=may_act or _owner_or_head(grant), decide=decide)
    return _view(rt, state, rt.clock.now())


@router.post(f"{STEP}/visit", response_model=FollowUpView, responses=STEP_ERRORS,
             summary="Record the verification visit of a bad rating (回访核实)")
async def post_visit(case_id: UUID, rating_event_id: UUID, body: VisitRequest, request: Request,
                     grant: Annotated[Grant, Depends(permit("routing.record_follow_up_visit"))]) -> FollowUpView:
    visit = Visit(reached=body.reached, means=body.means, resident_said=body.resident_said,
                  complaint_holds=body.complaint_holds)
    return await _step(request, grant, case_id, rating_event_id, lambda state, now: follow_up.decide_visit(
        state, visit, staff_id=grant.principal.sub, now=now))


@router.post(f"{STEP}/rectification", response_model=FollowUpView, responses=STEP_ERRORS,
             summary="Record the rectification and the answer to the resident (整改), after the visit")
async def post_rectification(case_id: UUID, rating_event_id: UUID, body: RectificationRequest, request: Request,
                             grant: Annotated[Grant, Depends(permit("routing.record_rectification"))],
                             ) -> FollowUpView:
    done = Rectification(measures=body.measures, evidence=tuple(body.evidence),
                         answer_to_resident=body.answer_to_resident, rate_again=body.rate_again)
    return await _step(request, grant, case_id, rating_event_id, lambda state, now: follow_up.decide_rectification(
        state, done, staff_id=grant.principal.sub, now=now))


@router.post(f"{STEP}/appeal", response_model=FollowUpView, responses=STEP_ERRORS,
             summary="Appeal a rating believed false or mistaken (申诉复核), once, by the follow-up's owner")
async def post_appeal(case_id: UUID, rating_event_id: UUID, body: AppealRequest, request: Request,
                      grant: Annotated[Grant, Depends(permit("routing.appeal_rating"))]) -> FollowUpView:
    return await _step(request, grant, case_id, rating_event_id, lambda state, now: follow_up.decide_appeal(
        state, ground=body.ground, reason=body.reason, appellant_id=grant.principal.sub))


@router.post(f"{STEP}/appeal-decision", response_model=FollowUpView, responses=STEP_ERRORS,
             summary="Decide an appeal against a rating (申诉复核决定): a centre head who did not appeal")
async def post_appeal_decision(case_id: UUID, rating_event_id: UUID, body: AppealDecisionRequest, request: Request,
                               grant: Annotated[Grant, Depends(permit("routing.decide_rating_appeal"))],
                               ) -> FollowUpView:
    def in_township(state: FollowUpState) -> None:
        grant.township(state.township_id)

    return await _step(request, grant, case_id, rating_event_id, lambda state, now: follow_up.decide_appeal_decision(
        state, upheld=body.upheld, reason=body.reason, head_id=grant.principal.sub), may_act=in_township)


@router.get("/follow-ups", response_model=FollowUpList, responses=error_responses(401, 403, 422),
            summary="Open follow-ups of bad ratings: the staff member's own, the centre head's township's; "
            "most urgent first")
async def list_follow_ups(request: Request, grant: Annotated[Grant, Depends(permit("routing.list_follow_ups"))],
                          township_id: Annotated[Code | None, Query(description="Needed by county-wide roles.")] = None,
                          ) -> FollowUpList:
    township = grant.listing_township(township_id)
    me = grant.principal
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:  # staff see what they own; heads and county-wide readers, the township's
        states = await fstore.open_in_township(conn, township_id=township, limit=LIST_LIMIT,
                                               owner_staff_id=me.sub if me.role == "staff" else None)
    now, policy = rt.clock.now(), rt.deps.alert_policy
    states.sort(key=lambda s: follow_up.urgency(s, now=now, calendar=policy.calendar,
                                                warning_days=policy.warning_days_for(s.township_id)))
    return FollowUpList(follow_ups=[_view(rt, s, now) for s in states])


@router.get("/cases/{case_id}/follow-ups", response_model=FollowUpList, responses=error_responses(401, 403, 404, 422),
            summary="A case's follow-ups of bad ratings, open or done, the first rating first")
async def case_follow_ups(case_id: UUID, request: Request,
                          grant: Annotated[Grant, Depends(permit("routing.read_case_follow_ups"))]) -> FollowUpList:
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:
        case = await store.get_case(conn, case_id)
        if case is None:
            raise ApiError(404, "CASE_NOT_FOUND", "办件不存在或尚未分办")
        grant.township(case.township_id)
        states = await fstore.of_case(conn, case_id)
    now = rt.clock.now()
    return FollowUpList(follow_ups=[_view(rt, s, now) for s in states])
