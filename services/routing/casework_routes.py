"""Routing's HTTP endpoints for the deadline clock (暂停计时, 延期), escalation (上报), joint shares (联办)
and the workbench: parse, authorise, call a use case, answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.fields import Code
from services.routing import alerts, commands, deadline_clock, domain, escalation, store
from services.routing.alerts import AlertPolicy
from services.routing.casework_schemas import (
    EscalateRequest,
    EscalationAnswerRequest,
    ExtendDeadlineRequest,
    PauseClockRequest,
    ShareDoneRequest,
    ShareView,
    Workbench,
    WorkItem,
)
from services.routing.deps import runtime_of
from services.routing.domain import CaseState
from services.routing.handlers import actor_of, may_act, view_of
from services.routing.schemas import CaseView

router = APIRouter(prefix="/api/v1", tags=["routing"])
WORKBENCH_LIMIT = 500
_CASE_ERRORS = error_responses(401, 403, 404, 409, body=True)


@router.post("/cases/{case_id}/pause", response_model=CaseView, summary="Stop a case's deadline clock (暂停计时)",
             responses=_CASE_ERRORS)
async def post_pause(case_id: UUID, body: PauseClockRequest, request: Request,
                     grant: Annotated[Grant, Depends(permit("routing.pause_clock"))]) -> CaseView:
    rt = runtime_of(request)
    cmd = domain.PauseClock(reason=body.reason, note=body.note)
    state = await commands.act(rt.pool, rt.clock, rt.deps.alert_policy, case_id=case_id, actor=actor_of(grant),
                               may_act=may_act(grant), decide=lambda s: domain.decide_pause(s, cmd, now=rt.clock.now()))
    return view_of(state, rt.clock.now())


@router.post("/cases/{case_id}/resume", response_model=CaseView, summary="Run a paused deadline clock again (恢复计时)",
             responses=_CASE_ERRORS)
async def post_resume(case_id: UUID, request: Request,
                      grant: Annotated[Grant, Depends(permit("routing.resume_clock"))]) -> CaseView:
    rt = runtime_of(request)
    policy = rt.deps.alert_policy
    state = await commands.act(rt.pool, rt.clock, policy, case_id=case_id, actor=actor_of(grant),
                               may_act=may_act(grant),
                               decide=lambda s: domain.decide_resume(s, now=rt.clock.now(), calendar=policy.calendar))
    return view_of(state, rt.clock.now())


@router.post("/cases/{case_id}/extension", response_model=CaseView,
             summary="Extend a case's deadline once, within the legal limit (延期, centre head)", responses=_CASE_ERRORS)
async def post_extension(case_id: UUID, body: ExtendDeadlineRequest, request: Request,
                         grant: Annotated[Grant, Depends(permit("routing.extend_deadline"))]) -> CaseView:
    rt = runtime_of(request)
    policy = rt.deps.alert_policy
    cmd = domain.ExtendDeadline(days=body.days, reason=body.reason, approved_by=grant.principal.sub)
    state = await commands.act(rt.pool, rt.clock, policy, case_id=case_id, actor=actor_of(grant),
                               may_act=may_act(grant),
                               decide=lambda s: domain.decide_extend(s, cmd, now=rt.clock.now(),
                                                                     calendar=policy.calendar))
    return view_of(state, rt.clock.now())


@router.post("/cases/{case_id}/escalation", response_model=CaseView, summary="Send a case up to the county (上报)",
             responses=_CASE_ERRORS)
async def post_escalation(case_id: UUID, body: EscalateRequest, request: Request,
                          grant: Annotated[Grant, Depends(permit("routing.escalate_case"))]) -> CaseView:
    rt = runtime_of(request)
    state = await commands.escalate_case(
        rt.pool, rt.clock, rt.deps.alert_policy, case_id=case_id, actor=actor_of(grant), may_act=may_act(grant),
        county_department=body.county_department, sent_materials=body.materials(), note=body.note)
    return view_of(state, rt.clock.now())


@router.post("/cases/{case_id}/escalation/answer", response_model=CaseView,
             summary="Record the county's answer to an escalated case", responses=_CASE_ERRORS)
async def post_escalation_answer(case_id: UUID, body: EscalationAnswerRequest, request: Request,
                                 grant: Annotated[Grant, Depends(permit("routing.record_county_answer"))]) -> CaseView:
    rt = runtime_of(request)
    state = await commands.act(
        rt.pool, rt.clock, rt.deps.alert_policy, case_id=case_id, actor=actor_of(grant), may_act=may_act(grant),
        decide=lambda s: escalation.decide_answer(s, result=body.result, answer=body.answer, reference=body.reference))
    return view_of(state, rt.clock.now())


@router.post("/cases/{case_id}/shares/{department_code}", response_model=CaseView,
             summary="A department's opinion on its share of a joint case (联办件)", responses=_CASE_ERRORS)
async def post_share(case_id: UUID, department_code: Code, body: ShareDoneRequest, request: Request,
                     grant: Annotated[Grant, Depends(permit("routing.finish_share"))]) -> CaseView:
    rt = runtime_of(request)

    def may_finish(state: CaseState) -> None:
        share = next((t for t in state.tasks if t.department_code == department_code), None)
        grant.case(township_id=state.township_id, department_code=department_code,
                   staff_id=share.staff_id if share else None)

    state = await commands.finish_share(rt.pool, rt.clock, rt.deps.alert_policy, case_id=case_id,
                                        actor=actor_of(grant), may_act=may_finish, department_code=department_code,
                                        result=body.result, note=body.note)
    return view_of(state, rt.clock.now())


@router.get("/workbench", response_model=Workbench,
            summary="Open cases, most urgent first, each green / yellow / red (staff: their own; centre head: "
                    "the township's)", responses=error_responses(401, 403, 422))
async def get_workbench(request: Request, grant: Annotated[Grant, Depends(permit("routing.read_workbench"))],
                        township_id: Annotated[Code | None, Query(description="Needed by county-wide roles.")] = None,
                        ) -> Workbench:
    township = grant.listing_township(township_id)
    me = grant.principal.sub if grant.principal.role == "staff" else None
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:
        states = await store.list_held_by(conn, township_id=township, staff_id=me, limit=WORKBENCH_LIMIT,
                                          now=rt.clock.now())
        total = await store.count_held_by(conn, township_id=township, staff_id=me)
    now, policy = rt.clock.now(), rt.deps.alert_policy
    items = sorted((work_item(s, now=now, policy=policy) for s in states), key=_urgency)
    counts = {light: sum(1 for i in items if i.light == light) for light in ("red", "yellow", "green")}
    return Workbench(township_id=township, staff_id=me, total=total, truncated=total > len(items), counts=counts,
                     cases=items)


def work_item(state: CaseState, *, now: datetime, policy: AlertPolicy) -> WorkItem:
    days = policy.warning_days_for(state.township_id)
    light = alerts.colour(state, now=now, calendar=policy.calendar, warning_days=days)
    left = None if state.paused else _working_days_left(policy, now, state.promised_deadline)
    return WorkItem(
        case_id=state.case_id, case_no=state.case_no, item_name=state.item_name, kind=state.kind,
        department_code=state.department_code, staff_id=state.staff_id,
        held_by_general_window=state.held_by_general_window, light=light,  # type: ignore[arg-type]
        promised_deadline=state.promised_deadline, deadline_provisional=state.deadline_provisional,
        working_days_left=left, paused=state.paused, pause_reason=state.pause_reason,
        extended=state.extension_days > 0, escalated_to=state.escalated_to,
        shares=[ShareView(department_code=t.department_code, staff_id=t.staff_id, done=t.done, result=t.result,
                          working_days=t.working_days) for t in state.tasks])


_LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2}


def _urgency(item: WorkItem) -> tuple[int, bool, datetime, str]:
    """Red before yellow before green; running clocks before paused ones; then the nearest deadline."""
    return _LIGHT_ORDER[item.light], item.paused, item.promised_deadline, item.case_no


def _working_days_left(policy: AlertPolicy, now: datetime, deadline: datetime) -> int:
    """Working days from today to the deadline's day, both included; 0 once it is past."""
    if now > deadline:
        return 0
    today, last = deadline_clock.local_day(now), deadline_clock.local_day(deadline)
    return policy.calendar.working_days_between(today, last) + int(policy.calendar.is_working_day(today))
