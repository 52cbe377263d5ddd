"""Request and response bodies of routing's follow-up endpoints (差评回访与整改)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.rating_events import AppealGround, ContactMeans
from services.kit.fields import EvidenceRef, LongText


class VisitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reached: bool = Field(description="Whether the resident was reached.", examples=[True])
    means: ContactMeans = Field(description="phone, home_visit, at_the_centre, sms, wechat or other.",
                                examples=["phone"])
    # Emptiness is a domain rule (VISIT_FINDING_REQUIRED when reached), so only the length is checked here.
    resident_said: LongText = Field(default="", description="What the resident said; empty when not reached.",
                                    examples=["反映材料被要求重复提交"])
    complaint_holds: bool | None = Field(default=None, description="Whether the complaint holds; none when the "
                                         "resident was not reached.", examples=[True])


class RectificationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measures: LongText = Field(description="What was done (整改措施).", examples=["已在窗口公示材料清单"])
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=10, description="Where the evidence is: "
                                         "document numbers, photos, minutes.", examples=[["清水镇整改通知〔2026〕3号"]])
    answer_to_resident: LongText = Field(description="The answer given to the resident (sent by SMS).",
                                         examples=["您反映的重复提交材料问题已整改，感谢监督"])
    rate_again: bool = Field(default=False, description="Ask the resident to rate again (round 2).", examples=[True])


class AppealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ground: AppealGround = Field(description="wrong_case, about_the_law, malicious, mistaken or other.",
                                 examples=["about_the_law"])
    reason: LongText = Field(description="The appellant's reason.", examples=["申请人对低保政策标准本身不满"])


class AppealDecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upheld: bool = Field(description="The appeal holds: the rating leaves the satisfaction rate, not the record.",
                         examples=[True])
    reason: LongText = Field(description="The centre head's reason.", examples=["经核实，差评针对政策标准"])


class FollowUpView(BaseModel):
    rating_event_id: UUID
    case_id: UUID
    case_no: str
    township_id: str
    department_code: str
    item_name: str
    score: int
    rating_round: int
    owner_staff_id: str | None
    rated_at: datetime
    visit_due: datetime
    rectification_due: datetime
    visit_limit_days: int
    rectification_limit_days: int
    stage: Literal["visit", "rectification", "done"] = Field(description="The step owed next; done when visited "
                                                              "and rectified, or visited and the appeal upheld.")
    colour: Literal["green", "yellow", "red"] = Field(description="red past due, yellow once warned, else green.")
    next_due: datetime | None
    closed: bool
    visited_at: datetime | None
    reached: bool | None
    means: str | None
    resident_said: str | None
    complaint_holds: bool | None
    visited_by: str | None
    visit_on_time: bool | None
    rectified_at: datetime | None
    measures: str | None
    evidence: list[str]
    answer_to_resident: str | None
    rate_again: bool | None
    rectified_by: str | None
    rectification_on_time: bool | None
    appealed_at: datetime | None
    appeal_ground: str | None
    appeal_reason: str | None
    appellant_staff_id: str | None
    appeal_decided_at: datetime | None
    appeal_upheld: bool | None
    appeal_decision_reason: str | None
    appeal_decided_by: str | None


class FollowUpList(BaseModel):
    follow_ups: list[FollowUpView]
