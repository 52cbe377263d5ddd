"""Routing's case events (bianmin.routing.cases.v1): who holds a case, its deadline clock, how it ends.

Every change of holder is an event naming the new holder (CaseAssigned, or CaseTransferred with
`to_staff_id`), so notify and audit always know who holds a case. The deadline in force is carried
by every event that changes it (ClockResumed, DeadlineExtended, DeadlineRecalculated).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Envelope, Payload
from contracts.topics import ROUTING_CASES

CompletionResult = Literal["granted", "refused"]
AssignmentReason = Literal["accepted", "staff_returned", "handover", "centre_head"]
PauseReason = Literal["materials", "hearing", "inspection", "testing", "appraisal", "expert_review"]
DeadlineKind = Literal["case", "tolerated_material", "complaint", "follow_up"]
FlagReason = Literal["ping_pong"]

_DEADLINE = Field(description="Deadline in force: end of the last working day, UTC, after pauses and extension.",
                  examples=["2026-12-04T15:59:59.999999Z"])
_PROVISIONAL = Field(default=False, description="Counted on the provisional calendar (the year's official holiday "
                     "schedule is not yet published); a DeadlineRecalculated follows once it is.", examples=[False])
_HELD = Field(default=False, description="Nobody able was present: the general window (综合窗口) holds the case "
              "until someone returns or the centre head assigns it.", examples=[False])


class CaseAssignedPayload(Payload):
    department_code: str = Field(description="Department the case is assigned to.", examples=["medical_insurance"])
    department_name: str = Field(description="Its name.", examples=["医保站"])
    staff_id: str | None = Field(default=None, description="Staff member who now holds the case; none while the "
                                 "general window holds it.", examples=["qs-medical_insurance-01"])
    promised_deadline: AwareDatetime = _DEADLINE
    reason: AssignmentReason = Field(
        default="accepted", description="Why the holder changed: the case was accepted, an able staff member "
        "returned, the holder went away and handed it over, or the centre head assigned it.", examples=["accepted"])
    held_by_general_window: bool = _HELD
    deadline_provisional: bool = _PROVISIONAL


class CaseAssigned(Envelope):
    """A case was given to a holder (分办), first on acceptance and again whenever its holder changes
    within the department."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    event_type: Literal["CaseAssigned"] = "CaseAssigned"
    payload: CaseAssignedPayload


class CaseTransferredPayload(Payload):
    from_department_code: str = Field(description="Department that held the case.", examples=["medical_insurance"])
    to_department_code: str = Field(description="Department that now holds it.", examples=["social_security"])
    to_department_name: str = Field(description="Its name.", examples=["社保站"])
    reason: str = Field(min_length=1, max_length=500, description="Why it was passed on.", examples=["属社保业务"])
    transfer_count: int = Field(ge=1, description="How many times this case has been transferred so far.", examples=[1])
    to_staff_id: str | None = Field(default=None, description="Staff member who now holds it; none while the "
                                    "general window holds it.", examples=["qs-social_security-02"])
    held_by_general_window: bool = _HELD


class CaseTransferred(Envelope):
    """A case was passed to another department (转办), and to a holder there."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    event_type: Literal["CaseTransferred"] = "CaseTransferred"
    payload: CaseTransferredPayload


class CaseFlaggedPayload(Payload):
    reason: FlagReason = Field(description="What supervision flags: `ping_pong` (推诿扯皮), a case that returned to a "
                               "department it had left or was transferred a third time.", examples=["ping_pong"])
    path: list[str] = Field(min_length=1, description="Departments the case passed through, in order, the current "
                            "one last.", examples=[["medical_insurance", "social_security", "medical_insurance"]])
    transfer_count: int = Field(ge=0, description="Transfers so far.", examples=[2])


class CaseFlagged(Envelope):
    """Supervision flagged a case for the centre head (推诿扯皮)."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["CaseFlagged"] = "CaseFlagged"
    payload: CaseFlaggedPayload


class JointTaskPayload(Payload):
    department_code: str = Field(description="Department of this share of a joint case (联办件).",
                                 examples=["agriculture"])
    staff_id: str | None = Field(default=None, description="Staff member holding the share; none while the general "
                                 "window holds it.", examples=["qs-agriculture-01"])
    reason: AssignmentReason = Field(default="accepted", description="Why the holder of the share changed.",
                                     examples=["accepted"])


class JointTaskAssigned(Envelope):
    """One department's share of a joint case was given to a holder."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["JointTaskAssigned"] = "JointTaskAssigned"
    payload: JointTaskPayload


class JointTaskDonePayload(Payload):
    department_code: str = Field(description="Department whose share is done.", examples=["agriculture"])
    staff_id: str = Field(description="Who did it.", examples=["qs-agriculture-01"])
    result: CompletionResult = Field(description="Its opinion: granted or refused.", examples=["granted"])
    note: str = Field(default="", max_length=1000, description="Its opinion in words; for a refusal, the grounds.",
                      examples=["符合一户一宅规定"])
    working_days: int = Field(ge=0, description="Working days this share took, from the case's acceptance.",
                              examples=[4])


class JointTaskDone(Envelope):
    """One department finished its share of a joint case; the case completes when every share is done."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["JointTaskDone"] = "JointTaskDone"
    payload: JointTaskDonePayload


class CaseEscalatedPayload(Payload):
    county_department: str = Field(min_length=1, max_length=100, description="County office the case went up to.",
                                   examples=["县自然资源局"])
    sent_materials: list[str] = Field(min_length=1, description="Codes of the materials sent up.",
                                      examples=[["id_card", "land_proof"]])
    note: str = Field(min_length=1, max_length=1000, description="The township's opinion sent with them.",
                      examples=["经初审材料齐全，报请县局审批"])


class CaseEscalated(Envelope):
    """A case was sent up to the county (上报); it stays tracked until the answer comes back."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["CaseEscalated"] = "CaseEscalated"
    payload: CaseEscalatedPayload


class EscalationAnsweredPayload(Payload):
    result: CompletionResult = Field(description="The county's decision.", examples=["granted"])
    answer: str = Field(min_length=1, max_length=2000, description="The county's answer as received.",
                        examples=["同意，批准文号县自然资〔2026〕88号"])
    reference: str = Field(default="", max_length=100, description="The county's document number, if any.",
                           examples=["县自然资〔2026〕88号"])


class EscalationAnswered(Envelope):
    """The county's answer to an escalated case came back to the township."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["EscalationAnswered"] = "EscalationAnswered"
    payload: EscalationAnsweredPayload


class ClockPausedPayload(Payload):
    reason: PauseReason = Field(description="What the clock waits for: materials from the applicant (补正), or a "
                                "procedure the law does not count (听证, 检验, 检测, 鉴定, 专家评审; 行政许可法 第四十五条).",
                                examples=["hearing"])
    note: str = Field(min_length=1, max_length=500, description="What is awaited, in words.",
                      examples=["申请人申请听证，定于12月3日举行"])


class ClockPaused(Envelope):
    """The deadline clock of a case stopped (暂停计时)."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["ClockPaused"] = "ClockPaused"
    payload: ClockPausedPayload


class ClockResumedPayload(Payload):
    paused_working_days: int = Field(ge=0, description="Working days this pause added.", examples=[2])
    promised_deadline: AwareDatetime = _DEADLINE
    deadline_provisional: bool = _PROVISIONAL


class ClockResumed(Envelope):
    """The deadline clock of a case ran again; its deadline moved by the working days it stood."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["ClockResumed"] = "ClockResumed"
    payload: ClockResumedPayload


class DeadlineExtendedPayload(Payload):
    extension_working_days: int = Field(ge=1, description="Working days added (延期), within the legal limit.",
                                        examples=[10])
    reason: str = Field(min_length=1, max_length=500, description="The written reason (行政许可法 第四十二条).",
                        examples=["需现场踏勘，二十日内不能作出决定"])
    approved_by: str = Field(description="Centre head who approved it.", examples=["qs-head"])
    promised_deadline: AwareDatetime = _DEADLINE
    deadline_provisional: bool = _PROVISIONAL


class DeadlineExtended(Envelope):
    """A case's deadline was extended, once at most, with the centre head's approval."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["DeadlineExtended"] = "DeadlineExtended"
    payload: DeadlineExtendedPayload


class DeadlineRecalculatedPayload(Payload):
    previous_deadline: AwareDatetime = Field(description="The deadline before, counted on the provisional calendar.",
                                             examples=["2027-02-19T15:59:59.999999Z"])
    promised_deadline: AwareDatetime = _DEADLINE
    deadline_provisional: bool = Field(description="Still provisional (a later year is still unpublished).",
                                       examples=[False])
    calendar_years: list[int] = Field(min_length=1, description="The years the deadline is counted through, from "
                                      "the case's start to its deadline.", examples=[[2026, 2027]])


class DeadlineRecalculated(Envelope):
    """The official holiday schedule was added and an open case's deadline was counted again on it."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["DeadlineRecalculated"] = "DeadlineRecalculated"
    payload: DeadlineRecalculatedPayload


class CaseCompletedPayload(Payload):
    department_code: str = Field(description="Department that decided.", examples=["medical_insurance"])
    result: CompletionResult = Field(description="Granted or refused.", examples=["granted"])
    note: str = Field(default="", max_length=1000, description="Reasons; for a refusal, the grounds.",
                      examples=["已办结，参保登记生效"])
    on_time: bool = Field(description="Completed by the deadline in force (after pauses and extension).",
                          examples=[True])
    promised_deadline: AwareDatetime = _DEADLINE
    appeal_rights: str = Field(default="", max_length=500, description="For a refusal, the resident's right to "
                               "administrative review or litigation, as told to them.",
                               examples=["如不服本决定，可自收到之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。"])
    staff_id: str | None = Field(default=None, description="Who decided.", examples=["qs-medical_insurance-01"])


class CaseCompleted(Envelope):
    """A case was decided and closed (办结)."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    event_type: Literal["CaseCompleted"] = "CaseCompleted"
    payload: CaseCompletedPayload


class DeadlinePayload(Payload):
    department_code: str = Field(description="Department holding the case.", examples=["medical_insurance"])
    staff_id: str | None = Field(default=None, description="Staff member holding it, if any.",
                                 examples=["qs-medical_insurance-01"])
    promised_deadline: AwareDatetime = _DEADLINE
    detected_at: AwareDatetime = Field(description="When it was noticed, UTC.", examples=["2026-12-05T00:00:05Z"])
    deadline_kind: DeadlineKind = Field(default="case", description="Which of the case's deadlines: the case itself, "
                                        "a tolerated material owed, a complaint's answer, a follow-up.",
                                        examples=["case"])
    deadline_key: str = Field(default="case", max_length=80, description="The deadline within the case: `case`, "
                              "`material:<code>`, `complaint`, `follow_up`.", examples=["case"])
    case_no: str = Field(default="", description="Human number of the case or complaint.",
                         examples=["QS-20261123-0001"])
    subject: str = Field(default="", max_length=200, description="What is due: the item's name, the material's, or "
                         "the complaint's subject.", examples=["城乡居民医保参保登记"])


class DeadlineWarning(Envelope):
    """A deadline is near (黄灯 / 预警): emitted once per deadline, to its holder."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["DeadlineWarning"] = "DeadlineWarning"
    payload: DeadlinePayload


class DeadlineBreached(Envelope):
    """A deadline passed without completion (红灯 / 超期): emitted once per deadline, to its holder and the
    centre head."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    event_type: Literal["DeadlineBreached"] = "DeadlineBreached"
    payload: DeadlinePayload


# The v1.0 name of the breach payload, kept for readers that import it.
DeadlineBreachedPayload = DeadlinePayload


class ComplaintAnsweredPayload(Payload):
    answer: str = Field(min_length=1, max_length=2000, description="The answer given to the complainant.",
                        examples=["经核实，当日医保窗口人员外出未公示去向，已责令整改"])
    upheld: bool = Field(description="The complaint was found to hold.", examples=[True])
    answered_by: str = Field(description="Who investigated and answered; never the staff member complained about.",
                             examples=["qs-head"])
    on_time: bool = Field(description="Answered by the complaint's answer_due.", examples=[True])


class ComplaintAnswered(Envelope):
    """A complaint or report was investigated and answered (投诉办结). case_id is the complaint's id."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["ComplaintAnswered"] = "ComplaintAnswered"
    payload: ComplaintAnsweredPayload


ROUTING_EVENT_TYPES: tuple[type[Envelope], ...] = (
    CaseAssigned, CaseTransferred, CaseFlagged, JointTaskAssigned, JointTaskDone, CaseEscalated, EscalationAnswered,
    ClockPaused, ClockResumed, DeadlineExtended, DeadlineRecalculated, CaseCompleted, DeadlineWarning,
    DeadlineBreached, ComplaintAnswered,
)
