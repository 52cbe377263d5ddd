"""Routing's complaint endpoints: the centre head's list, and the answer (投诉办结)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from contracts.envelope import Actor
from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.fields import Code
from services.routing import complaints, complaints_commands
from services.routing import complaints_store as cstore
from services.routing.complaints import ComplaintState
from services.routing.complaints_schemas import AnswerComplaintRequest, ComplaintList, ComplaintView
from services.routing.deps import runtime_of

router = APIRouter(prefix="/api/v1", tags=["complaints"])
LIST_LIMIT = 200



def _view(state: ComplaintState, now: datetime, reader_id: str) -> ComplaintView:
    shown = complaints.as_seen_by(state, reader_id)
    return ComplaintView(**asdict(shown), overdue=complaints.is_overdue(state, now=now))


@router.get("/complaints", response_model=ComplaintList,
            summary="A township's complaints and reports: open first, soonest due first",
            responses=error_responses(401, 403, 422))
async def list_complaints(request: Request, grant: Annotated[Grant, Depends(permit("routing.list_complaints"))],
                          township_id: Annotated[Code | None, Query(description="Needed by county-wide roles.")] = None,
                          ) -> ComplaintList:
    township = grant.listing_township(township_id)
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:
        states = await cstore.list_for_township(conn, township_id=township, limit=LIST_LIMIT)
    now = rt.clock.now()
    return ComplaintList(complaints=[_view(s, now, grant.principal.sub) for s in states])


@router.post("/complaints/{complaint_id}/answer", response_model=ComplaintView,
             summary="Answer a complaint or report (投诉办结); never by the staff member complained about",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_answer(complaint_id: UUID, body: AnswerComplaintRequest, request: Request,
                      grant: Annotated[Grant, Depends(permit("routing.answer_complaint"))]) -> ComplaintView:
    def may_act(state: ComplaintState) -> None:
        grant.township(state.township_id)
        complaints.check_answerer(state, grant.principal.sub)  # its own code, before the holder check
        grant.case(township_id=state.township_id, department_code=state.department_code, staff_id=None)

    rt = runtime_of(request)
    state = await complaints_commands.answer_complaint(
        rt.pool, rt.clock, complaint_id=complaint_id, answer=body.answer, upheld=body.upheld,
        actor=Actor(kind=grant.principal.role, id=grant.principal.sub), may_act=may_act)
    return _view(state, rt.clock.now(), grant.principal.sub)
