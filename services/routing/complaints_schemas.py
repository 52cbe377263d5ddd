"""Request and response bodies of routing's complaint endpoints."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.kit.fields import ComplaintText


class AnswerComplaintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Emptiness is a domain rule (COMPLAINT_ANSWER_REQUIRED), so only the length is checked here.
    answer: ComplaintText = Field(description="The answer given to the complainant; may span lines.",
                                  examples=["经核实，当日医保窗口人员外出未公示去向，已责令整改"])
    upheld: bool = Field(description="The complaint was found to hold.", examples=[True])


class ComplaintView(BaseModel):
    complaint_id: UUID
    complaint_no: str
    township_id: str
    complaint_kind: str = Field(description="complaint 投诉 | report 举报")
    subject: str
    content: str
    department_code: str | None = Field(description="Department investigating beside the centre head, if named.")
    about_staff_id: str | None
    about_case_id: UUID | None
    anonymous: bool
    complainant_name: str | None
    registered_at: datetime
    answer_due: datetime
    status: str = Field(description="open | answered", examples=["open"])
    overdue: bool = Field(description="Unanswered past answer_due, or answered after it.")
    answer: str | None
    upheld: bool | None
    answered_by: str | None
    answered_at: datetime | None
    on_time: bool | None


class ComplaintList(BaseModel):
    complaints: list[ComplaintView]
