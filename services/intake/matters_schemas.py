"""Request and response bodies of consultations, complaints and referrals."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import Channel, ComplaintKind
from services.intake.matters_fields import (
    Address,
    Answer,
    ComplaintContent,
    Matter,
    Note,
    OfficeHours,
    Place,
    Question,
    Subject,
)
from services.kit.fields import Code, MobilePhone, PersonName


class LogConsultationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township_id: Code = Field(examples=["qingshui"])
    question: Question = Field(description="What was asked.", examples=["新农合今年交多少钱？"])
    answer: Answer = Field(description="What the resident was told.", examples=["2026年度个人缴费标准为每人400元"])
    item_code: Code | None = Field(default=None, description="Catalogue item it concerned, if any.", examples=["YB-001"])
    department_code: Code | None = Field(default=None, description="Department it concerned; the item's when not given.",
                                         examples=[None])
    channel: Channel = Field(default="window", examples=["window"])


class ConsultationLoggedResponse(BaseModel):
    consultation_id: UUID
    department_code: str | None
    logged_at: datetime


class ConsultationEntry(BaseModel):
    consultation_id: UUID
    logged_at: datetime
    channel: str
    item_code: str | None
    department_code: str | None
    question: str
    answer: str
    first_contact_staff_id: str | None


class ConsultationCount(BaseModel):
    day: date = Field(description="Local day (Asia/Shanghai).")
    department_code: str | None = Field(description="null: no department named.")
    count: int


class ConsultationReport(BaseModel):
    """A township's consultations over some days: counts per day and department, and the latest ones."""

    township_id: str
    from_day: date = Field(serialization_alias="from")
    to_day: date = Field(serialization_alias="to")
    total: int
    counts: list[ConsultationCount]
    recent: list[ConsultationEntry] = Field(description="The latest 50 of the period, newest first.")


class RegisterComplaintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township_id: Code = Field(examples=["qingshui"])
    kind: ComplaintKind = Field(default="complaint", description="complaint 投诉 or report 举报.", examples=["complaint"])
    subject: Subject = Field(examples=["窗口工作人员不在岗"])
    content: ComplaintContent = Field(examples=["上午十点到医保窗口无人办理"])
    department_code: Code | None = Field(default=None, description="Department complained about; it investigates "
                                         "beside the centre head.", examples=["medical_insurance"])
    about_staff_id: Code | None = Field(default=None, description="Staff member complained about; never the one "
                                        "who answers.", examples=[None])
    about_case_id: UUID | None = Field(default=None, description="Case of this township it concerns.", examples=[None])
    anonymous: bool = Field(default=False, description="Not named to anyone; the name is not kept.", examples=[False])
    complainant_name: PersonName | None = Field(default=None, examples=["李四"])
    complainant_phone: MobilePhone | None = Field(
        default=None, description="For the answer; kept like an applicant's number (erasable, never in an event).",
        examples=["13900139000"])


class ComplaintRegisteredResponse(BaseModel):
    complaint_id: UUID
    complaint_no: str = Field(description="Read out to the complainant.")
    answer_due: datetime


class ComplaintView(BaseModel):
    complaint_id: UUID
    complaint_no: str
    township_id: str
    complaint_kind: str
    subject: str
    department_code: str | None
    about_staff_id: str | None
    about_case_id: UUID | None
    anonymous: bool
    complainant_name: str | None
    registered_at: datetime
    answer_due: datetime
    status: str = Field(description="open | answered (routing's ComplaintAnswered)", examples=["open"])
    answered_at: datetime | None
    upheld: bool | None
    on_time: bool | None
    overdue: bool = Field(description="Unanswered past answer_due, or answered after it.")


class ReferMatterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township_id: Code = Field(examples=["qingshui"])
    matter: Matter = Field(description="What the resident came for.", examples=["办理不动产登记"])
    item_code: Code | None = Field(default=None, description="Catalogue item, if the matter is one.", examples=[None])
    referred_to: Place = Field(description="Where the resident is sent.", examples=["县政务服务中心不动产登记窗口"])
    address: Address = Field(default="", examples=["县城人民路8号"])
    office_hours: OfficeHours = Field(default="", examples=["工作日 9:00-17:00"])
    note: Note = Field(default="", description="What to bring, whom to ask.", examples=["请携带身份证"])


class ReferralResponse(BaseModel):
    referral_id: UUID
    referred_to: str
    address: str
    office_hours: str
    note: str
    item_not_offered_here: bool = Field(description="The matter is a catalogue item this township does not offer.")
    guidance: str = Field(description="What the resident is told, in Chinese.",
                          examples=["请前往县政务服务中心不动产登记窗口办理（地址：县城人民路8号；"
                                    "办公时间：工作日 9:00-17:00）。请携带身份证"])
