"""Response bodies of the inspectors' queries, anomalies and figures; titles are the labels inspectors read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.kit.fields import code

CaseNo = code(40)  # e.g. QS-20261123-0001
EventType = code(64)  # matched as text, so an event type added later is found too

_CURSOR = Field(default=None, title="下一页标记", description="Pass as `cursor` for the next page; null on the last.")


class InspectionEvent(BaseModel):
    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    event_type: str = Field(title="事件类型", examples=["CaseCompleted"])
    case_id: UUID = Field(title="办件编号", description="Or the stream the event belongs to (staff, roster, complaint).")
    case_no: str | None = Field(title="办件号", examples=["QS-20261123-0001"])
    township_id: str = Field(title="乡镇", examples=["qingshui"])
    department_code: str | None = Field(title="科室", description="The department the event names.")
    staff_id: str | None = Field(title="工作人员", description="Who acted, else the staff member the event names.")
    occurred_at: datetime = Field(title="发生时间")
    actor: dict[str, str] = Field(title="操作人", examples=[{"kind": "staff", "id": "qs-civil_affairs-01"}])
    payload: dict[str, Any] = Field(title="事件内容")


class EventPage(BaseModel):
    items: list[InspectionEvent] = Field(title="事件记录", description="In order of occurred_at, then seq.")
    next_cursor: str | None = _CURSOR


class CaseFactsView(BaseModel):
    case_id: UUID = Field(title="办件编号")
    case_no: str | None = Field(title="办件号")
    township_id: str | None = Field(title="乡镇")
    item_code: str | None = Field(title="事项编码")
    item_name: str | None = Field(title="事项名称")
    kind: str | None = Field(title="办件类型")
    channel: str | None = Field(title="受理渠道")
    department_code: str | None = Field(title="承办科室", description="Current holder's department.")
    staff_id: str | None = Field(title="承办人", description="Current holder; null while the general window holds it.")
    first_contact_staff_id: str | None = Field(title="首问责任人")
    submitted_at: datetime | None = Field(title="受理时间")
    promised_deadline: datetime | None = Field(title="承诺期限", description="The deadline in force.")
    completed_at: datetime | None = Field(title="办结时间")
    result: str | None = Field(title="办理结果")
    on_time: bool | None = Field(title="按期办结")
    breached_at: datetime | None = Field(title="超期时间")
    ping_pong_at: datetime | None = Field(title="推诿扯皮标记时间")
    ping_pong_path: list[str] | None = Field(title="流转科室")
    transfers: int = Field(title="转办次数")
    notices: int = Field(title="告知次数")
    second_notices: int = Field(title="二次告知次数")
    rejected_at: datetime | None = Field(title="不予受理时间")
    rejection_approved_by: str | None = Field(title="不予受理审批人")
    resident_told_at: datetime | None = Field(title="短信告知办结时间")
    rating_score: int | None = Field(title="评价分值")
    rated_at: datetime | None = Field(title="评价时间")
    rating_excluded: bool = Field(title="评价经申诉剔除")
    followed_up_at: datetime | None = Field(title="差评回访时间")
    rectified_at: datetime | None = Field(title="差评整改时间")


class CaseLookup(BaseModel):
    case_no: str = Field(title="办件号")
    cases: list[CaseFactsView] = Field(title="办件", description="Usually one; more if a number was reused.")


class Evidence(BaseModel):
    event_id: UUID = Field(title="事件编号")
    seq: int | None = Field(title="审计序号")
    event_type: str | None = Field(title="事件类型")
    occurred_at: datetime | None = Field(title="发生时间")
    actor: dict[str, str] | None = Field(title="操作人")


class AnomalyItem(BaseModel):
    case_id: UUID | None = Field(title="办件编号", description="The case or complaint; null for a staff member's.")
    case_no: str | None = Field(title="办件号或投诉编号")
    township_id: str | None = Field(title="乡镇")
    department_code: str | None = Field(title="科室")
    staff_id: str | None = Field(title="工作人员")
    at: datetime | None = Field(title="发生时间", description="When the anomaly arose (deadline, flag, rating …).")
    summary: str = Field(title="情况说明", examples=["超过承诺期限仍未办结"])
    count: int | None = Field(default=None, title="次数", description="For top_breaching_staff: breaches in all.")
    evidence: list[Evidence] = Field(title="证据", description="Audit records the finding rests on.")


class AnomalyPage(BaseModel):
    kind: str = Field(title="异常类型", examples=["overdue_case"])
    label: str = Field(title="异常名称", examples=["超期办件"])
    items: list[AnomalyItem] = Field(title="异常清单")
    next_cursor: str | None = _CURSOR


class FigureRow(BaseModel):
    key: str = Field(title="统计对象", description="Township, department or staff id; `unknown` when not known.")
    period_start: date = Field(title="统计期起始日")
    cases: int = Field(title="受理件数")
    completed: int = Field(title="办结件数")
    on_time: int = Field(title="按期办结件数")
    on_time_rate: float | None = Field(title="按期办结率", description="on_time / completed; null without completions.")
    ratings: int = Field(title="评价数", description="Ratings counted (an upheld appeal removes one).")
    satisfied: int = Field(title="满意评价数", description="Scores of 4 or 5.")
    satisfaction_rate: float | None = Field(title="满意率", description="satisfied / ratings.")
    bad_ratings: int = Field(title="差评数")
    followed_up: int = Field(title="已回访差评数")
    follow_up_rate: float | None = Field(title="差评已回访比例", description="followed_up / bad_ratings, visited at any "
                                         "time, by department and staff too; the ledger's 回访率 (visited in time ÷ "
                                         "due, per township) is at /inspections/bad-ratings/figures.")


class FigureTable(BaseModel):
    by: str = Field(title="统计维度", examples=["township"])
    period: str = Field(title="统计周期", examples=["month"])
    rows: list[FigureRow] = Field(title="统计结果")
