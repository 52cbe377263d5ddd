"""Request and response bodies of the rating channels and the resident's status page."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import RatingChannel, RatingDimensions
from services.intake.ratings import Rating
from services.kit.fields import ShortText

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


class RatingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.", examples=[5])
    comment: ShortText = Field(default="", description="What the resident wants to say, in their words.",
                               examples=["办事很快"])
    dimensions: RatingDimensions | None = Field(
        default=None, description="Only in person (window pad, village agent), optional there; `overall` equals "
        "`score`. The SMS link and the status page answer 422 RATING_DIMENSIONS_NOT_ALLOWED.")

    def rating(self) -> Rating:
        return Rating(score=self.score, comment=self.comment, dimensions=self.dimensions)


class RatingRecorded(BaseModel):
    score: int
    bad_rating: bool = Field(description="Score of 2 or less: the centre follows it up (回访).")
    channel: RatingChannel
    message: str = Field(examples=["感谢您的评价"])


class InPersonRatingRecorded(RatingRecorded):
    case_id: UUID


class RatingLinkIssued(BaseModel):
    case_id: UUID
    token: str = Field(description="Single-use; shown once, never stored (only its hash is).")
    path: str = Field(description="Path of the rating page on intake's public address.",
                      examples=["/api/v1/rate/AAAA…"])
    expires_at: datetime


class RatingLevel(BaseModel):
    score: int
    label: str


class RatingLinkView(BaseModel):
    """What the rating page shows: the matter, the centre, the completion date; nothing personal."""

    item_name: str
    centre_name: str
    completed_on: date | None
    expires_at: datetime
    levels: list[RatingLevel] = Field(default_factory=lambda: [RatingLevel(score=s, label=t) for s, t in LEVELS.items()])


class OwedMaterialView(BaseModel):
    name: str
    problem_text: str = Field(examples=["缺少"])
    note: str
    due_on: date | None
    due_provisional: bool = Field(default=False, description="The due date rests on the provisional calendar.")
    due_text: str | None = Field(default=None, examples=["2027年01月05日前补交（暂定，待国家公布节假日安排后确认）"])


class RatingShownView(BaseModel):
    """One rating of the case as the resident gave it; the second stands beside the first."""

    rating_round: int = Field(description="1: the rating of the completed case; 2: the one after a rectification.",
                              examples=[1])
    score: int = Field(examples=[2])
    level: str = Field(description="The level in words.", examples=["不满意"])
    rated_on: date | None = Field(description="Day given (Asia/Shanghai).")


class CaseStatusView(BaseModel):
    """Where a case stands, for the resident (Simplified Chinese texts)."""

    case_no: str
    item_name: str
    centre_name: str
    status: str = Field(description="received | materials_requested | submitted | assigned | completed | rejected")
    status_text: str
    summary: str
    department_name: str | None
    promised_on: date | None = Field(description="Promised completion date (Asia/Shanghai).")
    deadline_provisional: bool = Field(default=False, description="The promised date was counted on the provisional "
                                       "calendar and is confirmed once the year's official holiday schedule is out.")
    deadline_text: str | None = Field(default=None, examples=["承诺办结日期：2027年01月12日（暂定，待国家公布节假日安排后确认）"])
    clock_paused: bool = Field(default=False, description="The deadline clock stands still (暂停计时).")
    pause_text: str | None = Field(default=None, examples=["暂停计时（听证：申请人申请听证，定于12月3日举行），所需时间不计入"
                                                           "办理时限，恢复计时后办结日期相应顺延"])
    overdue: bool
    result_text: str | None
    completed_on: date | None
    owed_materials: list[OwedMaterialView]
    can_rate: bool
    rating_text: str
    ratings: list[RatingShownView] = Field(default_factory=list, description="The ratings given, first and second.")
    can_rate_again: bool = Field(default=False, description="A rectification asked the resident to rate again "
                                 "(整改后再评价) and they have not yet: POST …/status/rating-again.")
