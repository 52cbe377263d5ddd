"""Request and response bodies of the deadline clock, escalation, joint shares and the workbench."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import CompletionResult, PauseReason
from services.kit.fields import Code, ComplaintText, LongText, ShortText, dedupe
from services.routing.casework_fields import DocumentNo, ExtensionDays, OfficeName


class PauseClockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: PauseReason = Field(description="materials (补正) | hearing (听证) | inspection (检验) | testing (检测) | "
                                "appraisal (鉴定) | expert_review (专家评审).", examples=["hearing"])
    note: ShortText = Field(description="What is awaited.", examples=["申请人申请听证，定于12月3日举行"])


class ExtendDeadlineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: ExtensionDays = Field(description="Working days to add, within the legal limit.", examples=[5])
    reason: ShortText = Field(description="The written reason (延期理由).", examples=["需现场踏勘"])


class EscalateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    county_department: OfficeName = Field(description="County office sent to.", examples=["县自然资源局"])
    sent_materials: Annotated[list[Code], Field(min_length=1, max_length=50)] = Field(
        description="Codes of the materials sent up.", examples=[["id_card", "land_proof"]])
    note: LongText = Field(description="The township's opinion sent with them.", examples=["经初审材料齐全，报请审批"])

    def materials(self) -> list[str]:
        return dedupe(self.sent_materials)


class EscalationAnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: CompletionResult = Field(examples=["granted"])
    answer: ComplaintText = Field(description="The county's answer as received.", examples=["同意"])
    reference: DocumentNo = Field(default="", description="The county's document number, if any.",
                                  examples=["县自然资〔2026〕88号"])


class ShareDoneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: CompletionResult = Field(examples=["granted"])
    note: LongText = Field(default="", description="The department's opinion; a refusal needs the grounds.",
                           examples=["符合一户一宅规定"])


class ShareView(BaseModel):
    department_code: str
    staff_id: str | None
    done: bool
    result: str | None
    working_days: int | None


class WorkItem(BaseModel):
    """One open case on a workbench."""

    case_id: UUID
    case_no: str
    item_name: str
    kind: str
    department_code: str
    staff_id: str | None
    held_by_general_window: bool
    light: Literal["green", "yellow", "red"] = Field(description="green: in time; yellow: warning time reached "
                                                     "(黄灯); red: past the deadline (红灯).")
    promised_deadline: datetime
    deadline_provisional: bool
    working_days_left: int | None = Field(description="Working days left, today included; None while paused.")
    paused: bool
    pause_reason: str | None
    extended: bool
    escalated_to: str | None
    shares: list[ShareView]


class Workbench(BaseModel):
    township_id: str
    staff_id: str | None = Field(description="Whose cases; None: the township's, for the centre head.")
    total: int = Field(description="Open cases in all, listed or not.", examples=[12])
    truncated: bool = Field(description="Only the most urgent cases are listed (at most 500): paused ones and "
                            "the farthest deadlines are left out.", examples=[False])
    counts: dict[str, int] = Field(description="Listed cases per light.", examples=[{"red": 1, "yellow": 2, "green": 9}])
    cases: list[WorkItem]
