"""Request and response bodies of intake's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from contracts.events import Acknowledgement, Channel, MaterialProblem
from services.intake.application import Application
from services.kit.fields import Code, IdNumber, LegalBasis, MobilePhone, Note, PersonName, Reason, dedupe

MAX_MATERIALS = 30
# At most MAX_MATERIALS as sent (duplicates count: the bound limits work), then duplicates dropped in order.
MaterialCodes = Annotated[list[Code], Field(max_length=MAX_MATERIALS), AfterValidator(dedupe)]


class FaultyMaterial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code = Field(examples=["photo"])
    note: Note = Field(default="", description="What is wrong, in words the resident understands.",
                       examples=["照片须为近期白底免冠彩色照片"])


FaultyList = Annotated[list[FaultyMaterial], Field(max_length=MAX_MATERIALS)]


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName = Field(examples=["张三"])
    id_number: IdNumber = Field(description="18-character ID-card number (ASCII digits, checksum, birth date not in "
                                "the future); stored and sent only masked.", examples=["11010519491231002X"])
    phone: MobilePhone | None = Field(default=None, description="Mobile number, ASCII digits; mainland China unless "
                                      "BIANMIN_PHONE_REGIONS says otherwise. Left out only when a village agent takes "
                                      "the application: the agent then passes the SMS on.", examples=["13800138000"])


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
    faulty: FaultyList = Field(default_factory=list, description="Materials handed in that are not valid, and why: "
                               "they are listed in the one-time notice with the missing ones.")


class OwedMaterial(BaseModel):
    code: str
    name: str
    problem: MaterialProblem
    note: str


class ApplicationResponse(BaseModel):
    """Where an application stands after a command: what is owed, and by when."""

    case_id: UUID
    case_no: str
    status: str = Field(description="received (待审查) | materials_requested (已一次性告知) | submitted (已受理) | "
                        "rejected (不予受理)", examples=["materials_requested"])
    notices_given: int
    second_notices: int
    owed: list[OwedMaterial] = Field(description="Essential materials of the open notice, all of them.")
    notice_due: datetime | None = Field(description="For materials received for review: the end of the 5-day "
                                        "notice period.")
    promised_deadline: datetime | None
    deemed_accepted: bool
    materials_tolerated_missing: list[str]
    tolerated_due: datetime | None
    deadline_provisional: bool = Field(default=False, description="promised_deadline was counted on the "
                                       "provisional calendar (暂定日历); the receipt says so.")
    tolerated_due_provisional: bool = Field(default=False, description="tolerated_due likewise.")
    replayed: bool = Field(default=False, description="An earlier submission with the same Idempotency-Key.")

    @classmethod
    def of(cls, case_id: UUID, app: Application, *, replayed: bool = False) -> ApplicationResponse:
        assert app.identity is not None
        return cls(
            case_id=case_id, case_no=app.identity.case_no, status=app.status, notices_given=app.notices,
            second_notices=app.second_notices,
            owed=[OwedMaterial(code=o.code, name=o.name, problem=o.problem, note=o.note) for o in app.owed],
            notice_due=app.notice_due if app.status == "received" else None, promised_deadline=app.promised_deadline,
            deemed_accepted=app.deemed_accepted, materials_tolerated_missing=[o.code for o in app.tolerated_owed],
            tolerated_due=app.tolerated_due if app.tolerated_owed else None, replayed=replayed,
            deadline_provisional=app.deadline_provisional,
            tolerated_due_provisional=app.tolerated_due_provisional and bool(app.tolerated_owed))


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faulty: FaultyList = Field(default_factory=list, description="Received materials found not valid.")


class SupplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    materials: MaterialCodes = Field(default_factory=list, description="Codes of the materials brought now.",
                                     examples=[["bank_card"]])
    faulty: FaultyList = Field(default_factory=list, description="Of those, any that are not valid.")
    additional: MaterialCodes = Field(
        default_factory=list, description="Materials not on the notice that are now required: allowed only when the "
        "item's requirements changed since the notice, and then flagged as a second notice.", examples=[[]])


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(examples=["申请人不属于本乡镇户籍居民"])
    legal_basis: LegalBasis = Field(examples=["《行政许可法》第三十二条第一款第（二）项"])
    proposed_by: Code | None = Field(default=None, description="Staff member who proposed the refusal; "
                                     "by default the first-responsible staff member.", examples=["qs-general_window-01"])


class HandoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    materials: Annotated[MaterialCodes, Field(min_length=1)] = Field(
        description="Codes of the paper materials the agent hands over.", examples=[["id_card", "hukou"]])


class DeliveryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acknowledgement: Acknowledgement = Field(description="How the resident acknowledged receipt (签字, 按手印, "
                                             "短信验证码), or `refused`.", examples=["signature"])
    note: Note = Field(default="", examples=["本人签收"])


class EventResponse(BaseModel):
    case_id: UUID
    event_id: UUID
    occurred_at: datetime


class EraseContactRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why the contact is erased, e.g. the resident's request under the "
                               "Personal Information Protection Law; recorded in the case history.",
                               examples=["申请人依《个人信息保护法》要求删除联系方式"])


class EraseContactResponse(BaseModel):
    case_id: UUID
    erased_at: datetime


class OwedView(BaseModel):
    code: str
    name: str
    essential: bool
    problem: MaterialProblem
    note: str
    notice_no: int | None
    due: datetime | None
    due_provisional: bool = Field(default=False, description="The due date rests on the provisional calendar.")


class CaseView(BaseModel):
    case_id: UUID
    case_no: str
    township_id: str
    item_code: str
    item_name: str
    catalogue_version: str | None
    kind: str | None
    department_code: str
    channel: str
    village_id: str | None
    agent_id: str | None
    first_contact_staff_id: str | None
    applicant_name: str
    applicant_id_masked: str
    status: str
    overdue: bool
    submitted_at: datetime = Field(description="When the application arrived.")
    received_at: datetime | None
    accepted_at: datetime | None
    promised_deadline: datetime | None = Field(description="The deadline in force, as routing last moved it.")
    deadline_provisional: bool = Field(description="Counted on the provisional calendar (暂定日历): recounted when "
                                       "the official holiday schedule of a year it reaches is added.")
    clock_paused_reason: str | None = Field(description="While routing's deadline clock stands still: why "
                                            "(materials | hearing | inspection | testing | appraisal | expert_review).")
    clock_paused_note: str | None
    clock_paused_at: datetime | None
    notices_given: int
    second_notices: int
    deemed_accepted: bool
    owed: list[OwedView]
    rejected_at: datetime | None
    completed_at: datetime | None
    result: str | None
    delivered_at: datetime | None
    rating_score: int | None


class CaseSummary(BaseModel):
    """One line of the supervisor's list."""

    case_id: UUID
    case_no: str
    item_code: str
    item_name: str
    channel: str
    status: str
    submitted_at: datetime
    notices_given: int
    second_notices: int
    deemed_accepted: bool
    tolerated_overdue: bool = Field(description="A tolerated material is still owed past its due date.")
    first_contact_staff_id: str | None
    agent_id: str | None


class CasePage(BaseModel):
    total: int
    limit: int
    offset: int
    cases: list[CaseSummary]
