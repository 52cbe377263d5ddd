"""The hall's HTTP endpoints: the ticket kiosk, the windows, the display board and the staffing figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from contracts.envelope import Actor
from contracts.errors import DomainError
from contracts.events import ServiceEnded, ServiceStarted, TicketCalled
from services.intake import hall, hall_commands, hall_store, store
from services.intake.deps import runtime_of
from services.intake.domain import UnknownTownship
from services.intake.hall_commands import Step
from services.intake.hall_schemas import (
    CallNextRequest,
    EndServiceRequest,
    HallBoard,
    IssueTicketRequest,
    TicketIssuedResponse,
    TicketStepResponse,
    WindowRequest,
)
from services.intake.hall_stats import HallStats, hall_stats
from services.kit.access import Grant, permit, public
from services.kit.errors import error_responses
from services.kit.fields import Code

router = APIRouter(prefix="/api/v1/hall", tags=["hall"])
BOARD_LIMIT = 30  # numbers shown per queue, and windows shown: what a hall's screen can hold
MAX_STATS_DAYS = 366


class StatsRangeInvalid(DomainError):
    status, code = 422, "STATS_RANGE_INVALID"
    message = f"统计区间无效：结束日期不能早于开始日期，区间最长{MAX_STATS_DAYS}天"



def _actor(grant: Grant) -> Actor:
    return Actor(kind=grant.principal.role, id=grant.principal.sub)


def _step(step: Step) -> TicketStepResponse:
    event, ticket = step.event, step.ticket
    status: Literal["called", "started", "ended"]
    wait: int | None = None
    service: int | None = None
    if isinstance(event, TicketCalled | ServiceStarted):
        status, window_no, wait = ("called" if isinstance(event, TicketCalled) else "started",
                                   event.payload.window_no, event.payload.wait_seconds)
    else:
        assert isinstance(event, ServiceEnded) and ticket.window_no is not None  # only a called ticket ends
        status, window_no, service = "ended", ticket.window_no, event.payload.service_seconds
    return TicketStepResponse(ticket_id=step.ticket_id, ticket_no=ticket.ticket_no, queue=ticket.queue, status=status,
                              window_no=window_no, at=event.occurred_at, wait_seconds=wait, service_seconds=service)


@router.post("/tickets", status_code=201, response_model=TicketIssuedResponse, summary="Take a queue ticket (取号)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_ticket(body: IssueTicketRequest, request: Request,
                      grant: Annotated[Grant, Depends(permit("intake.hall_issue_ticket"))]) -> TicketIssuedResponse:
    grant.township(body.township_id)
    rt = runtime_of(request)
    step, ahead = await hall_commands.issue_ticket(rt.pool, rt.clock, township_id=body.township_id, queue=body.queue,
                                                   actor=_actor(grant))
    return TicketIssuedResponse(ticket_id=step.ticket_id, ticket_no=step.ticket.ticket_no, queue=body.queue,
                                township_id=body.township_id, issued_at=step.ticket.issued_at, waiting_ahead=ahead)


@router.post("/calls", response_model=TicketStepResponse, summary="Call the next waiting ticket at a window (叫号)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_call(body: CallNextRequest, request: Request,
                    grant: Annotated[Grant, Depends(permit("intake.hall_call_next"))]) -> TicketStepResponse:
    grant.township(body.township_id)
    rt = runtime_of(request)
    return _step(await hall_commands.call_next(rt.pool, rt.clock, township_id=body.township_id, queues=body.queues,
                                               window_no=body.window_no, actor=_actor(grant)))


@router.post("/tickets/{ticket_id}/recall", response_model=TicketStepResponse,
             summary="Call a ticket again at the window that called it (重新叫号)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_recall(ticket_id: UUID, body: WindowRequest, request: Request,
                      grant: Annotated[Grant, Depends(permit("intake.hall_recall_ticket"))]) -> TicketStepResponse:
    rt = runtime_of(request)
    return _step(await hall_commands.recall(rt.pool, rt.clock, ticket_id, window_no=body.window_no,
                                            actor=_actor(grant), may_see=grant.township))


@router.post("/tickets/{ticket_id}/start", response_model=TicketStepResponse,
             summary="The resident reached the window: service starts",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_start(ticket_id: UUID, body: WindowRequest, request: Request,
                     grant: Annotated[Grant, Depends(permit("intake.hall_start_service"))]) -> TicketStepResponse:
    rt = runtime_of(request)
    return _step(await hall_commands.start_service(rt.pool, rt.clock, ticket_id, window_no=body.window_no,
                                                   actor=_actor(grant), may_see=grant.township))


@router.post("/tickets/{ticket_id}/end", response_model=TicketStepResponse,
             summary="Service ended (served, with the cases taken in), or nobody came (no_show, 过号)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_end(ticket_id: UUID, body: EndServiceRequest, request: Request,
                   grant: Annotated[Grant, Depends(permit("intake.hall_end_service"))]) -> TicketStepResponse:
    rt = runtime_of(request)
    return _step(await hall_commands.end_service(rt.pool, rt.clock, ticket_id, window_no=body.window_no,
                                                 outcome=body.outcome, case_ids=body.case_ids, actor=_actor(grant),
                                                 may_see=grant.township))


@router.get("/queue", response_model=HallBoard, dependencies=[Depends(public("intake.hall_board"))],
            summary="The hall's display board: today's waiting numbers and the windows calling; no token",
            responses=error_responses(404, 422))
async def get_board(request: Request, township_id: Annotated[Code, Query(examples=["qingshui"])]) -> HallBoard:
    rt = runtime_of(request)
    day = hall.service_day(rt.clock.now())
    async with rt.pool.acquire() as conn:
        if await store.township_prefix(conn, township_id) is None:
            raise UnknownTownship()
        shown = await hall_store.board(conn, township_id=township_id, day=day, shown=BOARD_LIMIT)
    return HallBoard(township_id=township_id, day=day, **shown)


@router.get("/stats", response_model=HallStats,
            summary="Staffing figures: visitors, waiting and service times per hour and weekday (Asia/Shanghai)",
            responses=error_responses(401, 403, 404, 422))
async def get_stats(request: Request, grant: Annotated[Grant, Depends(permit("intake.hall_stats"))],
                    township_id: Annotated[Code, Query(examples=["qingshui"])],
                    first_day: Annotated[date, Query(alias="from", description="First day, Asia/Shanghai.",
                                                     examples=["2026-11-01"])],
                    last_day: Annotated[date, Query(alias="to", description=f"Last day, included; at most "
                                                    f"{MAX_STATS_DAYS} days in all.", examples=["2026-11-30"])],
                    ) -> HallStats:
    grant.township(township_id)
    if last_day < first_day or (last_day - first_day).days >= MAX_STATS_DAYS:
        raise StatsRangeInvalid()
    async with runtime_of(request).pool.acquire() as conn:
        if await store.township_prefix(conn, township_id) is None:
            raise UnknownTownship()
        tickets = await hall_store.ticket_figures(conn, township_id=township_id, first_day=first_day,
                                                  last_day=last_day)
    return hall_stats(tickets, township_id=township_id, first_day=first_day, last_day=last_day)
