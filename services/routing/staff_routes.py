"""Routing's who-is-there endpoints: staff records (county IT), presence, rosters, absences, the presence
board (public), and the centre head's assignment by hand."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request

from contracts.envelope import Actor
from contracts.staff_events import RosterDay
from contracts.workdays import SHANGHAI, default_calendar
from services.kit.access import Grant, permit, public
from services.kit.auth import Principal
from services.kit.errors import ApiError, error_responses
from services.kit.fields import Code, StaffId
from services.routing import staff_commands, staff_store
from services.routing.deps import runtime_of
from services.routing.domain import CaseState
from services.routing.handlers import view_of as case_view
from services.routing.schemas import CaseView
from services.routing.staff import PresenceChange, Staff, StaffRecord, board, may_set_presence, status_label
from services.routing.staff_schemas import (
    AbsenceList,
    AbsenceView,
    AssignCaseRequest,
    BoardEntryView,
    PresenceBoard,
    PresenceRequest,
    PresenceView,
    RosterRequest,
    RosterView,
    StaffRequest,
    StaffView,
)

router = APIRouter(prefix="/api/v1", tags=["who is there"])
ABSENCE_LIMIT = 500
ABSENCE_DAYS = 31
ABSENCE_LABELS = {"not_at_post": "无故不在岗", "overdue_return": "逾时未归"}
StaffIdPath = Annotated[StaffId, Path(description="Staff id, e.g. qs-social_security-01.")]
TownshipPath = Annotated[Code, Path(description="Township id, e.g. qingshui.")]


def _actor(principal: Principal) -> Actor:
    return Actor(kind=principal.role, id=principal.sub)


@router.put("/staff/{staff_id}", response_model=StaffView, summary="Record or change a staff member (county IT)",
            responses=error_responses(401, 403, body=True))
async def put_staff(staff_id: StaffIdPath, body: StaffRequest, request: Request,
                    grant: Annotated[Grant, Depends(permit("routing.record_staff"))]) -> StaffView:
    rt = runtime_of(request)
    record = StaffRecord(staff_id=staff_id, township_id=body.township_id, department_code=body.department_code,
                         role=body.role, name=body.name, window_no=body.window_no, skills=tuple(sorted(set(body.skills))),
                         phone=body.phone, active=body.active)
    async with rt.pool.acquire() as conn, conn.transaction():
        changed = await staff_commands.record_staff(conn, rt.clock, record, actor=_actor(grant.principal))
        staff = await staff_store.get_staff(conn, staff_id)
    assert staff is not None
    return StaffView(staff_id=staff.staff_id, township_id=staff.township_id, department_code=staff.department_code,
                     role=staff.role, name=staff.name, window_no=staff.window_no, skills=list(staff.skills),
                     active=staff.active, presence=staff.presence, changed=changed)


@router.post("/staff/{staff_id}/presence", response_model=PresenceView,
             summary="Set where a staff member is: at the post, away (with a reason and return), off duty",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_presence(staff_id: StaffIdPath, body: PresenceRequest, request: Request,
                        grant: Annotated[Grant, Depends(permit("routing.set_presence"))]) -> PresenceView:
    rt = runtime_of(request)

    def may_act(staff: Staff) -> None:
        grant.township(staff.township_id)
        may_set_presence(role=grant.principal.role, sub=grant.principal.sub, staff=staff)

    staff, handed, taken = await staff_commands.set_presence(
        rt.pool, rt.clock, staff_id=staff_id, actor=_actor(grant.principal), may_act=may_act,
        change=PresenceChange(status=body.status, reason=body.reason, away_until=body.away_until, note=body.note),
        hours_of=rt.settings.hours_of, calendar=default_calendar(), take_batch=rt.settings.held_take_batch)
    return PresenceView(staff_id=staff.staff_id, status=staff.presence, status_label=status_label(staff),
                        reason=staff.away_reason, away_until=staff.away_until, note=staff.away_note,
                        cases_handed_over=handed, cases_taken=taken)


@router.put("/townships/{township_id}/roster/{week_monday}", response_model=RosterView,
            summary="Set a township's duty roster for a week (排班), by its centre head",
            responses=error_responses(401, 403, body=True))
async def put_roster(township_id: TownshipPath, week_monday: date, body: RosterRequest, request: Request,
                     grant: Annotated[Grant, Depends(permit("routing.set_roster"))]) -> RosterView:
    grant.township(township_id)
    rt = runtime_of(request)
    days = [RosterDay(duty_date=d.duty_date, day_kind=d.day_kind, staff_ids=list(dict.fromkeys(d.staff_ids)))
            for d in body.days]
    await staff_commands.set_roster(rt.pool, rt.clock, township_id=township_id, week_of=week_monday, days=days,
                                    actor=_actor(grant.principal))
    return RosterView(township_id=township_id, week_of=week_monday, days=sorted(days, key=lambda d: d.duty_date))


@router.get("/townships/{township_id}/roster/{week_monday}", response_model=RosterView,
            summary="A township's duty roster of a week; no days when none was set",
            responses=error_responses(401, 403, 422))
async def get_roster(township_id: TownshipPath, week_monday: date, request: Request,
                     grant: Annotated[Grant, Depends(permit("routing.read_roster"))]) -> RosterView:
    grant.township(township_id)
    async with runtime_of(request).pool.acquire() as conn:
        days = await staff_store.roster_week(conn, township_id, week_monday)
    return RosterView(township_id=township_id, week_of=week_monday, days=days)


@router.get("/townships/{township_id}/presence-board", response_model=PresenceBoard,
            summary="去向公示: where each staff member of a centre is, and an office number to reach them; no token",
            responses=error_responses(404, 422), dependencies=[Depends(public("routing.presence_board"))])
async def get_presence_board(township_id: TownshipPath, request: Request) -> PresenceBoard:
    async with runtime_of(request).pool.acquire() as conn:
        lines = await staff_store.load_office_lines(conn, township_id)
        if lines is None:
            raise ApiError(404, "TOWNSHIP_NOT_FOUND", "乡镇不存在")
        staff = await staff_store.township_staff(conn, township_id)
        names = await staff_store.department_names(conn)
    entries = board(staff, department_names=names, lines=lines)
    return PresenceBoard(township_id=township_id, enquiry_line=lines.enquiry_line,
                         staff=[BoardEntryView(**vars(e)) for e in entries])


@router.get("/townships/{township_id}/absences", response_model=AbsenceList,
            summary="Absences recorded during duty hours (无事离岗), latest first, for the centre head",
            responses=error_responses(401, 403, 422))
async def get_absences(township_id: TownshipPath, request: Request,
                       grant: Annotated[Grant, Depends(permit("routing.list_absences"))],
                       since: Annotated[date | None, Query(description="First duty date; default a month ago.")] = None,
                       ) -> AbsenceList:
    grant.township(township_id)
    rt = runtime_of(request)
    since = since or rt.clock.now().astimezone(SHANGHAI).date() - timedelta(days=ABSENCE_DAYS)
    async with rt.pool.acquire() as conn:
        rows = await staff_store.list_absences(conn, township_id=township_id, since=since, limit=ABSENCE_LIMIT)
    return AbsenceList(absences=[AbsenceView(**r, kind_label=ABSENCE_LABELS[r["kind"]]) for r in rows])


@router.post("/cases/{case_id}/assign", response_model=CaseView,
             summary="Give a case to a staff member by hand (the centre head), e.g. one the general window holds",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_assign(case_id: UUID, body: AssignCaseRequest, request: Request,
                      grant: Annotated[Grant, Depends(permit("routing.assign_case"))]) -> CaseView:
    rt = runtime_of(request)

    def may_act(state: CaseState) -> None:
        grant.case(township_id=state.township_id, department_code=state.department_code, staff_id=state.staff_id)

    state = await staff_commands.assign_by_head(rt.pool, rt.clock, case_id=case_id, staff_id=body.staff_id,
                                                actor=_actor(grant.principal), may_act=may_act)
    return case_view(state, rt.clock.now())
