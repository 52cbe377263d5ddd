"""Request and response bodies of the hall's queue endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.intake.hall import QUEUE_LETTERS
from services.kit.fields import Code, WindowNo, dedupe

MAX_CASES_PER_SERVICE = 20
QueueCode = Annotated[Code, Field(description="A department code of the centre, or `general_window`.",
                                  examples=["social_security"])]


class IssueTicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township_id: Code = Field(examples=["qingshui"])
    queue: QueueCode


class CallNextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township_id: Code = Field(examples=["qingshui"])
    window_no: WindowNo = Field(description="The window's number as shown above it.", examples=["3"])
    queues: Annotated[list[QueueCode], Field(min_length=1, max_length=len(QUEUE_LETTERS)), AfterValidator(dedupe)] = \
        Field(description="Queues this window serves; the longest-waiting ticket among them is called.",
              examples=[["social_security", "general_window"]])


class WindowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_no: WindowNo = Field(description="The window's number as shown above it.", examples=["3"])


class EndServiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_no: WindowNo = Field(description="The window's number as shown above it.", examples=["3"])
    outcome: Literal["served", "no_show"] = Field(description="Served, or called and nobody came (过号).",
                                                  examples=["served"])
    case_ids: Annotated[list[UUID], Field(max_length=MAX_CASES_PER_SERVICE), AfterValidator(dedupe)] = Field(
        default_factory=list, description="Cases taken in during this service; duplicates are dropped.",
        examples=[[]])


class TicketIssuedResponse(BaseModel):
    ticket_id: UUID
    ticket_no: str = Field(examples=["B012"])
    queue: str
    township_id: str
    issued_at: datetime
    waiting_ahead: int = Field(description="Tickets of this queue waiting before this one.", examples=[3])


class TicketStepResponse(BaseModel):
    ticket_id: UUID
    ticket_no: str = Field(examples=["B012"])
    queue: str
    status: Literal["called", "started", "ended"]
    window_no: str
    at: datetime = Field(description="When this step happened.")
    wait_seconds: int | None = Field(description="From taking the ticket to this call or start; null on ending.",
                                     examples=[540])
    service_seconds: int | None = Field(description="Service time, on ending only.", examples=[None])


class BoardQueue(BaseModel):
    queue: str
    letter: str = Field(examples=["B"])
    waiting: int = Field(description="Tickets of today waiting in this queue.", examples=[4])
    next: list[str] = Field(description="The first waiting numbers, in order (at most the board's limit).",
                            examples=[["B013", "B014"]])


class BoardWindow(BaseModel):
    ticket_no: str = Field(examples=["B012"])
    queue: str
    window_no: str = Field(examples=["3"])
    status: Literal["called", "started"] = Field(description="Called (请到窗口) or being served.")
    called_at: datetime
    started_at: datetime | None


class HallBoard(BaseModel):
    township_id: str
    day: date = Field(description="Today, Asia/Shanghai: only today's tickets are shown.")
    queues: list[BoardQueue]
    windows: list[BoardWindow] = Field(description="Tickets called or in service, latest call first.")
