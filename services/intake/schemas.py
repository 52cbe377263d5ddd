"""Request and response bodies of intake's HTTP API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import Channel


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50, examples=["张三"])
    id_number: str = Field(min_length=18, max_length=18, description="18-digit ID-card number; stored and sent only masked.",
                           examples=["11010519491231002X"])
    phone: str = Field(min_length=5, max_length=20, description="Mainland mobile number.", examples=["13800138000"])


class SubmitCaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(examples=["SB-002"])
    township_id: str = Field(examples=["qingshui"])
    village_id: str | None = Field(default=None, max_length=32, examples=[None])
    channel: Channel = Field(default="window", examples=["window"])
    applicant: Applicant
    materials: list[str] = Field(default_factory=list, description="Codes of the materials handed in.",
                                 examples=[["id_card", "hukou", "bank_card"]])


class SubmitCaseResponse(BaseModel):
    case_id: UUID
    case_no: str
    status: str
    promised_deadline: datetime
    materials_tolerated_missing: list[str]


class RateCaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意", examples=[5])
    comment: str = Field(default="", max_length=500, examples=["办事很快"])


class RateCaseResponse(BaseModel):
    case_id: UUID
    score: int
    bad_rating: bool


class CaseView(BaseModel):
    case_id: UUID
    case_no: str
    township_id: str
    item_code: str
    item_name: str
    department_code: str
    channel: str
    applicant_name: str
    applicant_id_masked: str
    status: str
    overdue: bool
    promised_deadline: datetime
    submitted_at: datetime
    completed_at: datetime | None
    result: str | None
    rating_score: int | None
