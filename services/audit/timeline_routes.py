"""GET /cases/{case_id}/timeline: a case's events as inspectors read them, and the case at a past instant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from contracts.workdays import SHANGHAI
from services.audit import commands
from services.audit.deps import AuditRuntime
from services.audit.timeline import DEADLINE_LABELS, CaseState, DeadlineColour, TimelineEntry, timeline
from services.kit.access import Grant, permit
from services.kit.errors import ApiError, error_responses

router = APIRouter(prefix="/api/v1", tags=["audit"])
EARLIEST = datetime(2000, 1, 1, tzinfo=SHANGHAI)


class TimelineActor(BaseModel):
    kind: str = Field(title="角色", examples=["staff"])
    id: str = Field(title="操作人编号", examples=["qs-social_security-01"])
    label: str = Field(title="角色名称", examples=["窗口工作人员"])


class TimelineEvent(BaseModel):
    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    event_type: str = Field(title="事件类型", examples=["CaseTransferred"])
    label: str = Field(title="事件名称", examples=["转办"])
    actor: TimelineActor = Field(title="操作人")
    occurred_at: datetime = Field(title="发生时间（北京时间）", examples=["2026-11-23T10:15:00+08:00"])
    occurred_at_utc: datetime = Field(title="发生时间（UTC）", examples=["2026-11-23T02:15:00Z"])
    summary: str = Field(title="摘要", examples=["转办至民政办（理由：属民政业务）"])
    deadline_state: DeadlineColour = Field(
        title="期限状态", description="After this event: none (no clock yet), green, yellow (warned), red (past the "
        "deadline in force), paused, completed_on_time, completed_late.", examples=["green"])
    deadline_state_label: str = Field(title="期限状态名称", examples=["正常"])
    deadline: datetime | None = Field(title="在用期限（北京时间）", description="Deadline in force after this event.")
    hash: str = Field(title="记录哈希")


class CaseAsOf(BaseModel):
    status: str = Field(title="状态", examples=["assigned"])
    status_label: str = Field(title="状态名称", examples=["办理中"])
    case_no: str | None = Field(title="办件编号", examples=["QS-20261123-0001"])
    item_name: str | None = Field(title="办理事项")
    applicant_name: str | None = Field(title="申请人")
    department_code: str | None = Field(title="承办科室")
    holder: str | None = Field(title="承办人", description="Staff id; none while a department or the general "
                               "window holds the case.")
    deadline: datetime | None = Field(title="在用期限（北京时间）")
    deadline_state: DeadlineColour = Field(title="期限状态")
    deadline_state_label: str = Field(title="期限状态名称")
    notices: list[str] = Field(title="一次性告知", description="Each notice given: its number and the materials asked.",
                               examples=[["第1次告知：户口簿"]])
    materials_owed: list[str] = Field(title="尚欠材料", examples=[["hukou"]])
    result: str | None = Field(title="办理结果", examples=["granted"])
    rating: int | None = Field(title="评价分数", examples=[5])


class CaseTimelineView(BaseModel):
    case_id: UUID = Field(title="办件编号")
    township_id: str = Field(title="乡镇")
    as_of: datetime = Field(title="截至时间（北京时间）")
    case: CaseAsOf = Field(title="截至该时刻的办件情况")
    events: list[TimelineEvent] = Field(title="时间线", description="Events that occurred by as_of, in order.")


def _local(at: datetime | None) -> datetime | None:
    return at.astimezone(SHANGHAI) if at else None


def event_view(entry: TimelineEntry) -> TimelineEvent:
    return TimelineEvent(
        seq=entry.seq, event_id=entry.event_id, event_type=entry.event_type, label=entry.label,
        actor=TimelineActor(kind=entry.actor_kind, id=entry.actor_id, label=entry.actor_label),
        occurred_at=entry.occurred_at, occurred_at_utc=entry.occurred_at_utc, summary=entry.summary,
        deadline_state=entry.deadline_state, deadline_state_label=DEADLINE_LABELS[entry.deadline_state],
        deadline=_local(entry.deadline), hash=entry.hash)


def case_view(case: CaseState, at: datetime) -> CaseAsOf:
    colour = case.clock.colour(at)
    return CaseAsOf(
        status=case.status, status_label=case.status_label, case_no=case.case_no, item_name=case.item_name,
        applicant_name=case.applicant_name, department_code=case.department_code, holder=case.holder,
        deadline=_local(case.clock.deadline), deadline_state=colour, deadline_state_label=DEADLINE_LABELS[colour],
        notices=[f"第{n.notice_no}次告知：{'、'.join(n.materials)}" for n in case.notices],
        materials_owed=list(case.materials_owed), result=case.result, rating=case.rating)


def as_of_instant(as_of: datetime | None, now: datetime) -> datetime:
    """A time without offset is Beijing time; a future one has nothing to show yet."""
    if as_of is None:
        return now
    at = as_of.replace(tzinfo=SHANGHAI) if as_of.tzinfo is None else as_of
    if at > now:
        raise ApiError(422, "AS_OF_IN_FUTURE", "截至时间不能晚于当前时间")
    if at < EARLIEST:  # nothing was recorded before; and year 1 cannot be moved to Beijing time
        raise ApiError(422, "AS_OF_TOO_EARLY", "截至时间不能早于2000年1月1日")
    return at


@router.get("/cases/{case_id}/timeline", response_model=CaseTimelineView,
            summary="A case's timeline, and the case as it stood at a past instant (办件时间线)",
            responses=error_responses(401, 403, 404, 422))
async def get_timeline(
    case_id: UUID, request: Request, grant: Annotated[Grant, Depends(permit("audit.case_timeline"))],
    as_of: Annotated[datetime | None, Query(description="ISO 8601 instant; without an offset, Beijing time. "
                                            "Default: now.", examples=["2026-11-25T09:00:00+08:00"])] = None,
) -> CaseTimelineView:
    rt: AuditRuntime = request.app.state.runtime
    now = rt.clock.now()
    at = as_of_instant(as_of, now)
    history = await commands.case_history(rt.pool, case_id, grant=grant, query="case_timeline",
                                          parameters={"case_id": case_id, "as_of": as_of}, now=now)
    folded = timeline(history.records, as_of=at)
    return CaseTimelineView(case_id=case_id, township_id=history.records[0].township_id, as_of=at.astimezone(SHANGHAI),
                            case=case_view(folded.case, at), events=[event_view(e) for e in folded.entries])
