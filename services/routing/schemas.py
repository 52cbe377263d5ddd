"""Request and response bodies of routing's HTTP API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import CompletionResult
from services.kit.fields import Code, LongText, ShortText


class TransferCaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_department_code: Code = Field(examples=["civil_affairs"])
    # Emptiness is a domain rule (TRANSFER_REASON_REQUIRED), so only the length is checked here.
    reason: ShortText = Field(description="Why the case is passed on (转办理由).", examples=["属民政业务"])


class CompleteCaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: CompletionResult = Field(examples=["granted"])
    note: LongText = Field(default="", description="Reasons, may span lines; a refusal needs the grounds and the "
                           "applicant's appeal rights.", examples=["已办结，待遇自次月起发放"])


class CaseView(BaseModel):
    """A case as department staff see it."""

    case_id: UUID
    case_no: str
    township_id: str
    item_code: str
    item_name: str
    status: str = Field(description="assigned | completed", examples=["assigned"])
    department_code: str
    department_name: str
    staff_id: str | None
    promised_deadline: datetime
    overdue: bool = Field(description="Past the promised deadline while open, or completed late.")
    breached_at: datetime | None = Field(description="When the deadline breach was flagged (红灯), if it was.")
    transfer_count: int
    completed_at: datetime | None
    result: str | None
    note: str
    on_time: bool | None
    kind: str = Field(description="immediate | promised | joint | escalated.", examples=["promised"])
    held_by_general_window: bool = Field(description="Nobody able was present: the general window holds it.")
    deadline_provisional: bool = Field(description="Counted on the provisional calendar (暂定).")
    paused: bool = Field(description="The deadline clock stands (暂停计时).")
    pause_reason: str | None
    paused_working_days: int = Field(description="Working days the clock stood, added to the deadline.")
    extension_days: int = Field(description="Working days of the one extension (延期), 0 if none.")
    flagged: bool = Field(description="Flagged as passed back and forth (推诿扯皮).")
    path: list[str] = Field(description="Departments that held the case, in order.")
    escalated_to: str | None = Field(description="County office it was sent up to (上报), if any.")


class CaseList(BaseModel):
    cases: list[CaseView]
