"""Request and response bodies of routing's staff, presence, roster, absence and presence-board endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contracts.staff_events import AwayReason, PresenceStatus, RosterDay, StaffRole
from services.kit.fields import Code, ItemCode, MobilePhone, Note, StaffId, StaffName, WindowNo
from services.routing import village_agents


class StaffRequest(BaseModel):
    """What county IT records of a staff member; the staff id is in the path."""

    model_config = ConfigDict(extra="forbid")

    township_id: Code = Field(examples=["qingshui"])
    department_code: Code = Field(description="A department of the county (GET /api/v1/departments at intake).",
                                  examples=["social_security"])
    role: StaffRole = Field(default="staff", examples=["staff"])
    name: StaffName = Field(description="Shown on the presence board.", examples=["王芳"])
    window_no: WindowNo | None = Field(default=None, examples=["4"])
    skills: list[ItemCode] = Field(default_factory=list, max_length=50, description="Item codes of other departments "
                                   "this staff member also handles (一专多能); checked by shape only.",
                                   examples=[["YB-001"]])
    phone: MobilePhone | None = Field(default=None, description="Work mobile: only notify ever receives it.")
    active: bool = Field(default=True, description="False once the staff member left: their cases are handed over.")

    @model_validator(mode="after")
    def _agent_shape(self) -> StaffRequest:
        if error := village_agents.shape_error(role=self.role, department_code=self.department_code, skills=self.skills,
                                               window_no=self.window_no):
            raise ValueError(error)
        return self


class StaffView(BaseModel):
    staff_id: str
    township_id: str
    department_code: str
    role: str
    name: str
    window_no: str | None
    skills: list[str]
    active: bool
    presence: str
    changed: bool = Field(description="False when the record was already so: no event was appended.")


class PresenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: PresenceStatus = Field(examples=["away"])
    reason: AwayReason | None = Field(default=None, description="Needed when away.", examples=["village_visit"])
    away_until: AwareDatetime | None = Field(default=None, description="Expected return; today before the duty day "
                                             "ends, or a later day for leave.", examples=["2026-11-24T07:00:00Z"])
    note: Note = Field(default="", description="Where, shown on the presence board.", examples=["东风村入户核查"])


class PresenceView(BaseModel):
    staff_id: str
    status: str
    status_label: str = Field(examples=["下村"])
    reason: str | None
    away_until: datetime | None
    note: str
    cases_handed_over: int
    cases_taken: int = Field(description="Cases the general window held that this staff member took on return.")


class RosterDayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duty_date: date = Field(examples=["2026-11-24"])
    day_kind: Literal["ordinary", "market_day", "office_day"] = Field(
        default="ordinary", description="On a market day (逢场天) or office day (集中办理日) every window is staffed.",
        examples=["market_day"])
    staff_ids: list[StaffId] = Field(max_length=200, examples=[["qs-social_security-01"]])


class RosterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[RosterDayRequest] = Field(min_length=1, max_length=7)


class RosterView(BaseModel):
    township_id: str
    week_of: date
    days: list[RosterDay]


class BoardEntryView(BaseModel):
    name: str
    department_name: str
    window_no: str | None
    status: str = Field(examples=["away"])
    status_label: str = Field(description="在岗/下村/会议/请假/培训/外出/下班", examples=["下村"])
    note: str = Field(examples=["东风村入户核查"])
    back_at: datetime | None
    contact_phone: str = Field(description="The department's office line or the centre's enquiry line.",
                               examples=["0571-8877 1002"])


class PresenceBoard(BaseModel):
    township_id: str
    enquiry_line: str
    staff: list[BoardEntryView]


class AbsenceView(BaseModel):
    staff_id: str
    name: str
    department_code: str
    duty_date: date
    kind: str = Field(examples=["not_at_post"])
    kind_label: str = Field(examples=["无故不在岗"])
    noticed_at: datetime


class AbsenceList(BaseModel):
    absences: list[AbsenceView]


class AssignCaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: StaffId = Field(examples=["qs-social_security-02"])
