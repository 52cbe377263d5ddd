"""Response bodies of the bad-rating ledger (差评台账) and its figures; titles are the headers inspectors read."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from services.audit.bad_ratings import State


class BadRatingItem(BaseModel):
    rating_event_id: UUID = Field(title="评价事件编号")
    case_id: UUID | None = Field(title="办件编号")
    case_no: str | None = Field(title="办件号", examples=["QS-20261123-0001"])
    township_id: str | None = Field(title="乡镇")
    department_code: str | None = Field(title="承办科室")
    owner_staff_id: str | None = Field(title="责任人", description="Who handled the case (谁办理谁负责); the case's "
                                       "holder until FollowUpOpened names the owner.")
    score: int = Field(title="评价分值", description="2 不满意, 1 非常不满意.")
    rating_round: int = Field(title="评价轮次", description="2: the rating asked for again after a rectification.")
    rated_at: datetime = Field(title="评价时间")
    state: State = Field(title="状态代码")
    state_label: str = Field(title="状态", examples=["已整改"])
    visit_due: datetime = Field(title="回访期限", description="The county's (FollowUpOpened), else audit's limit.")
    visited_at: datetime | None = Field(title="回访时间")
    visit_on_time: bool | None = Field(title="按时回访")
    reached: bool | None = Field(title="联系上群众")
    means: str | None = Field(title="回访方式")
    complaint_holds: bool | None = Field(title="反映问题属实")
    rectification_due: datetime = Field(title="整改期限")
    rectified_at: datetime | None = Field(title="整改时间")
    rectification_on_time: bool | None = Field(title="按时整改")
    measures: str | None = Field(title="整改措施")
    appealed_at: datetime | None = Field(title="申诉时间")
    appeal_ground: str | None = Field(title="申诉理由类别")
    appellant_staff_id: str | None = Field(title="申诉人")
    appeal_decided_at: datetime | None = Field(title="申诉决定时间")
    appeal_upheld: bool | None = Field(title="申诉成立", description="An upheld appeal removes the rating from 满意率.")
    appeal_decided_by: str | None = Field(title="申诉决定人")
    second_score: int | None = Field(title="整改后再评价分值")
    evidence_event_ids: list[UUID] = Field(title="证据事件", description="The audit records the row rests on.")


class BadRatingPage(BaseModel):
    items: list[BadRatingItem] = Field(title="差评台账")
    next_cursor: str | None = Field(default=None, title="下一页标记",
                                    description="Pass as `cursor` for the next page; null on the last.")


class BadRatingFigureRow(BaseModel):
    township_id: str = Field(title="乡镇")
    period_start: date = Field(title="统计期起始日")
    bad_ratings: int = Field(title="差评数", description="Bad ratings less those removed by an upheld appeal.")
    appeals_upheld: int = Field(title="申诉成立数")
    visits_due: int = Field(title="应回访数", description="Visited, or past the visit due.")
    visited_on_time: int = Field(title="按时回访数")
    follow_up_rate: float | None = Field(title="回访率", description="visited_on_time / visits_due.")
    rectifications_due: int = Field(title="应整改数", description="Complaint held, and rectified or past the due.")
    rectified_on_time: int = Field(title="按时整改数")
    rectification_rate: float | None = Field(title="整改率", description="rectified_on_time / rectifications_due.")
    ratings: int = Field(title="评价数", description="First ratings counted (an upheld appeal removes one).")
    satisfied: int = Field(title="满意评价数")
    satisfaction_rate: float | None = Field(title="满意率", description="satisfied / ratings.")


class BadRatingFigureTable(BaseModel):
    period: str = Field(title="统计周期", examples=["month"])
    rows: list[BadRatingFigureRow] = Field(title="统计结果")
