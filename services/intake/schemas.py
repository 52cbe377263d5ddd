"""Request and response bodies of intake's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from contracts.events import Channel
from services.kit.fields import Code, IdNumber, MobilePhone, PersonName, Reason, ShortText, dedupe

MAX_MATERIALS = 30
# At most MAX_MATERIALS as sent (duplicates count: the bound limits work), then duplicates dropped in order.
MaterialCodes = Annotated[list[Code], Field(max_length=MAX_MATERIALS), AfterValidator(dedupe)]


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName = Field(examples=["张三"])
    id_number: IdNumber = Field(description="18-character ID-card number (ASCII digits, checksum, birth date not in "
                                "the future); stored and sent only masked.", examples=["11010519491231002X"])
    phone: MobilePhone = Field(description="Mobile number, ASCII digits; mainland China unless BIANMIN_PHONE_REGIONS "
                               "says otherwise.", examples=["13800138000"])


class SubmitCaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_code: Code = Field(examples=["SB-002"])
    township_id: Code = Field(examples=["qingshui"])
    village_id: Code | None = Field(default=None, examples=[None])
    channel: Channel = Field(default="window", examples=["window"])
    applicant: Applicant
    materials: MaterialCodes = Field(
        default_factory=list, description="Codes of the materials handed in; duplicates are dropped.",
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
    comment: ShortText = Field(default="", examples=["办事很快"])


class RateCaseResponse(BaseModel):
    case_id: UUID
    score: int
    bad_rating: bool


class EraseContactRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why the contact is erased, e.g. the resident's request under the "
                               "Personal Information Protection Law; recorded in the case history.",
                               examples=["申请人依《个人信息保护法》要求删除联系方式"])


class EraseContactResponse(BaseModel):
    case_id: UUID
    erased_at: datetime


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
