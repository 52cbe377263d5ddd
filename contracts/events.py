"""Every bianmin event type: one envelope subclass with a typed payload each."""

from __future__ import annotations

import json
from typing import ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AwareDatetime, Field

from contracts.envelope import Envelope, Payload
from contracts.inspection_events import INSPECTION_EVENT_TYPES
from contracts.rating_events import RATING_LOOP_EVENT_TYPES
from contracts.routing_events import (  # noqa: F401  (re-exported: every event type is importable from here)
    ROUTING_EVENT_TYPES,
    AssignmentReason,
    CaseAssigned,
    CaseAssignedPayload,
    CaseCompleted,
    CaseCompletedPayload,
    CaseEscalated,
    CaseEscalatedPayload,
    CaseFlagged,
    CaseFlaggedPayload,
    CaseTransferred,
    CaseTransferredPayload,
    ClockPaused,
    ClockPausedPayload,
    ClockResumed,
    ClockResumedPayload,
    ComplaintAnswered,
    ComplaintAnsweredPayload,
    CompletionResult,
    DeadlineBreached,
    DeadlineBreachedPayload,
    DeadlineExtended,
    DeadlineExtendedPayload,
    DeadlineKind,
    DeadlinePayload,
    DeadlineRecalculated,
    DeadlineRecalculatedPayload,
    DeadlineWarning,
    EscalationAnswered,
    EscalationAnsweredPayload,
    JointTaskAssigned,
    JointTaskDone,
    JointTaskDonePayload,
    JointTaskPayload,
    PauseReason,
)
from contracts.staff_events import STAFF_EVENT_TYPES
from contracts.topics import AUDIT_CHECKPOINTS, INTAKE_CASES, INTAKE_HALL, NOTIFY_CASES

Channel = Literal["window", "village_point", "appointment", "home_visit", "phone", "online"]
CaseKind = Literal["immediate", "promised", "joint", "escalated", "returned"]
RecipientKind = Literal["resident", "staff"]
MaterialProblem = Literal["missing", "faulty"]
RatingChannel = Literal["window_pad", "sms_link", "village_agent", "status_page"]
ComplaintKind = Literal["complaint", "report"]
Acknowledgement = Literal["signature", "fingerprint", "sms_code", "refused"]

_DEADLINE = Field(description="Promised deadline: end of the last working day, UTC.", examples=["2026-12-04T15:59:59.999999Z"])


class ApplicationFields(Payload):
    """What every event that can open a case says about it, so that each reads on its own."""

    case_no: str = Field(description="Human case number shown to the resident.", examples=["QS-20261123-0001"])
    item_code: str = Field(description="Service item applied for.", examples=["YB-001"])
    item_name: str = Field(description="Name of the service item.", examples=["城乡居民医保参保登记"])
    catalogue_version: str | None = Field(
        default=None, description="Catalogue version (服务事项目录版本) the item's requirements were read from.",
        examples=["2026.11-r1"])
    kind: CaseKind = Field(description="Case kind (即办件, 承诺件 …).", examples=["promised"])
    department_code: str = Field(description="Department that decides this item by the catalogue.",
                                 examples=["medical_insurance"])
    channel: Channel = Field(description="How the case reached the centre.", examples=["window"])
    village_id: str | None = Field(default=None, description="Village point that took the case in, if any.", examples=[None])
    agent_id: str | None = Field(default=None, description="Village agent (代办员) acting for the resident, if any.",
                                 examples=[None])
    first_contact_staff_id: str | None = Field(
        default=None, description="Staff member who first received the resident (首问负责人) and stays responsible.",
        examples=["qs-general_window-01"])
    applicant_name: str = Field(description="Applicant's name.", examples=["张三"])
    applicant_id_masked: str = Field(description="Masked ID-card number; the full number never travels.",
                                     examples=["3301**********1234"])


class CaseSubmittedPayload(ApplicationFields):
    materials_provided: list[str] = Field(description="Codes of the materials handed in.", examples=[["id_card", "hukou"]])
    materials_tolerated_missing: list[str] = Field(
        default_factory=list, description="Tolerable materials accepted as missing (容缺受理), to be brought later.",
        examples=[[]])
    promised_limit_days: int = Field(ge=0, description="Promised limit in working days.", examples=[5])
    promised_deadline: AwareDatetime = _DEADLINE
    received_at: AwareDatetime | None = Field(
        default=None, description="When the materials first arrived, if before acceptance (补正 or review).",
        examples=[None])
    notices_given: int = Field(default=0, ge=0, description="One-time notices (一次性告知) given before acceptance.",
                               examples=[0])
    deemed_accepted: bool = Field(
        default=False, description="Accepted by law because no notice came within 5 working days of receipt "
        "(行政许可法 第三十二条); the lapse is flagged for supervisors.", examples=[False])
    legal_limit_days: int | None = Field(
        default=None, ge=0, description="Legal limit (法定时限) in working days: no extension may pass it.",
        examples=[20])
    joint_department_codes: list[str] = Field(
        default_factory=list, description="For a joint case (联办件), the departments that each decide a share "
        "besides the item's own.", examples=[["agriculture"]])
    deadline_provisional: bool = Field(
        default=False, description="The deadline was counted on the provisional calendar (the official holiday "
        "schedule of a year it reaches is not yet published); routing recounts it once it is.", examples=[False])


class CaseSubmitted(Envelope):
    """A case was taken in at a window or a village point (受理): its materials are complete, or
    only tolerable ones are owed. Its deadline starts here."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    SCHEMA_VERSION: ClassVar[str] = "1.2"
    event_type: Literal["CaseSubmitted"] = "CaseSubmitted"
    payload: CaseSubmittedPayload


class NoticeMaterial(Payload):
    code: str = Field(description="Material code of the item.", examples=["bank_card"])
    name: str = Field(description="Its name.", examples=["本人银行卡或存折"])
    problem: MaterialProblem = Field(description="Missing, or handed in but not valid.", examples=["missing"])
    note: str = Field(default="", max_length=200, description="What is wrong or what counts as valid.",
                      examples=["须为本人名下的一类银行卡"])


class ApplicationReceivedPayload(ApplicationFields):
    materials_received: list[str] = Field(description="Codes of the materials received for review.",
                                          examples=[["id_card", "hukou"]])
    notice_due: AwareDatetime = Field(
        description="End of the 5th working day after receipt: a notice after this is too late and the case "
        "counts as accepted on the day the materials arrived (行政许可法 第三十二条).",
        examples=["2026-11-30T15:59:59.999999Z"])


class ApplicationReceived(Envelope):
    """Materials arrived for review without the resident at the window (online, village point) (收件).
    Within 5 working days the case is accepted or a one-time notice is given."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["ApplicationReceived"] = "ApplicationReceived"
    payload: ApplicationReceivedPayload


class MaterialsRequestedPayload(ApplicationFields):
    notice_no: int = Field(ge=1, description="1 for the one-time notice; 2 and on are second notices.", examples=[1])
    materials: list[NoticeMaterial] = Field(min_length=1, description="Every missing or faulty essential material, "
                                            "all at once.")
    materials_in_hand: list[str] = Field(
        default_factory=list, description="Codes of the materials handed in and found valid so far: what the "
        "resident need not bring again.", examples=[["id_card", "hukou"]])
    second_notice: bool = Field(default=False, description="A later notice asking for something the first did not: "
                                "allowed only when the item's requirements changed; supervisors see it.",
                                examples=[False])
    requirements_changed_from: str | None = Field(
        default=None, description="For a second notice, the catalogue version of the notice before it.",
        examples=[None])


class MaterialsRequested(Envelope):
    """The applicant was told, at once, every material still missing or faulty (一次性告知)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["MaterialsRequested"] = "MaterialsRequested"
    payload: MaterialsRequestedPayload


class MaterialsSuppliedPayload(Payload):
    materials: list[str] = Field(min_length=1, description="Codes of the materials brought now.",
                                 examples=[["bank_card"]])
    notice_no: int | None = Field(default=None, description="Notice answered; null for tolerated materials owed "
                                  "after acceptance.", examples=[1])
    still_owed: list[str] = Field(default_factory=list, description="Codes still owed after this.", examples=[[]])
    complete: bool = Field(description="Nothing essential is owed any more: intake is complete.", examples=[True])


class MaterialsSupplied(Envelope):
    """The applicant brought materials that were asked for or owed (补正 / 补齐材料)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["MaterialsSupplied"] = "MaterialsSupplied"
    payload: MaterialsSuppliedPayload


class ToleratedMaterialDuePayload(Payload):
    materials: list[NoticeMaterial] = Field(min_length=1, description="Tolerable materials still owed.")
    due: AwareDatetime = Field(description="End of the working day by which they must be brought, UTC.",
                               examples=["2026-12-07T15:59:59.999999Z"])
    due_provisional: bool = Field(
        default=False, description="The due date was counted on the provisional calendar (a year it reaches has no "
        "official holiday schedule yet).", examples=[False])


class ToleratedMaterialDue(Envelope):
    """A case was accepted with tolerable materials missing (容缺受理), owed by a due date."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["ToleratedMaterialDue"] = "ToleratedMaterialDue"
    payload: ToleratedMaterialDuePayload


class CaseRejectedAtIntakePayload(Payload):
    reason: str = Field(min_length=1, max_length=500, description="Why the matter is not accepted.",
                        examples=["申请人不属于本乡镇户籍居民"])
    legal_basis: str = Field(min_length=1, max_length=500, description="The provision it rests on.",
                             examples=["《行政许可法》第三十二条第一款第（二）项"])
    proposed_by: str | None = Field(default=None, description="Staff member who proposed the refusal.",
                                    examples=["qs-general_window-01"])
    approved_by: str = Field(description="Centre head who approved it (无否决权: the window cannot refuse alone).",
                             examples=["qs-head"])


class CaseRejectedAtIntake(Envelope):
    """A matter was refused at intake with the centre head's approval (不予受理)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["CaseRejectedAtIntake"] = "CaseRejectedAtIntake"
    payload: CaseRejectedAtIntakePayload


class CaseReferredPayload(Payload):
    matter: str = Field(min_length=1, max_length=200, description="What the resident came for.",
                        examples=["办理不动产登记"])
    item_code: str | None = Field(default=None, description="Catalogue item, if the matter is one.", examples=[None])
    referred_to: str = Field(min_length=1, max_length=100, description="Where the resident is sent.",
                             examples=["县政务服务中心不动产登记窗口"])
    address: str = Field(default="", max_length=200, description="Where that is.", examples=["县城人民路8号"])
    office_hours: str = Field(default="", max_length=100, description="When it is open.",
                              examples=["工作日 9:00-17:00"])
    note: str = Field(default="", max_length=500, description="What to bring, whom to ask.", examples=["请携带身份证"])
    first_contact_staff_id: str | None = Field(default=None, description="Staff member who received the resident.",
                                               examples=["qs-general_window-01"])


class CaseReferred(Envelope):
    """A matter the township does not handle; the resident was told where to go (转介)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["CaseReferred"] = "CaseReferred"
    payload: CaseReferredPayload


class ConsultationLoggedPayload(Payload):
    question: str = Field(min_length=1, max_length=500, description="What was asked.", examples=["新农合今年交多少钱？"])
    answer: str = Field(min_length=1, max_length=1000, description="What the resident was told.",
                        examples=["2026年度个人缴费标准为每人400元"])
    item_code: str | None = Field(default=None, description="Catalogue item it concerned, if any.", examples=["YB-001"])
    department_code: str | None = Field(default=None, description="Department it concerned, if any.",
                                        examples=["medical_insurance"])
    channel: Channel = Field(description="How the question came.", examples=["window"])
    first_contact_staff_id: str | None = Field(default=None, description="Staff member who answered.",
                                               examples=["qs-general_window-01"])


class ConsultationLogged(Envelope):
    """A question was answered and logged (咨询)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["ConsultationLogged"] = "ConsultationLogged"
    payload: ConsultationLoggedPayload


class ComplaintRegisteredPayload(Payload):
    complaint_kind: ComplaintKind = Field(description="投诉 (complaint) or 举报 (report).", examples=["complaint"])
    complaint_no: str = Field(description="Number read out to the complainant.", examples=["QS-T-20261123-0001"])
    subject: str = Field(min_length=1, max_length=100, description="What it is about, in a line.",
                         examples=["窗口工作人员不在岗"])
    content: str = Field(min_length=1, max_length=2000, description="What the complainant said.",
                         examples=["上午十点到医保窗口无人办理"])
    department_code: str | None = Field(default=None, description="Department complained about, if any.",
                                        examples=["medical_insurance"])
    about_staff_id: str | None = Field(default=None, description="Staff member complained about, if named; they "
                                       "may not investigate it.", examples=[None])
    about_case_id: UUID | None = Field(default=None, description="Case it concerns, if any.", examples=[None])
    anonymous: bool = Field(default=False, description="The complainant asked not to be named.", examples=[False])
    complainant_name: str | None = Field(default=None, description="Complainant's name unless anonymous.",
                                         examples=["李四"])
    answer_due: AwareDatetime = Field(description="End of the working day by which it must be answered, UTC.",
                                      examples=["2026-12-14T15:59:59.999999Z"])
    first_contact_staff_id: str | None = Field(default=None, description="Staff member who registered it.",
                                               examples=["qs-general_window-01"])


class ComplaintRegistered(Envelope):
    """A complaint or report was registered; routing investigates and answers it by its deadline
    (投诉 / 举报). case_id is the complaint's own id."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["ComplaintRegistered"] = "ComplaintRegistered"
    payload: ComplaintRegisteredPayload


class MaterialsHandedOverPayload(Payload):
    agent_id: str = Field(description="Village agent who carried the paper materials.", examples=["qs-agent-dongcun"])
    received_by: str = Field(description="Centre staff member who took them over.", examples=["qs-general_window-01"])
    materials: list[str] = Field(min_length=1, description="Codes of the materials handed over.",
                                 examples=[["id_card", "hukou"]])
    handed_over_at: AwareDatetime = Field(description="When, UTC.", examples=["2026-11-23T06:00:00Z"])


class MaterialsHandedOver(Envelope):
    """A village agent handed a case's paper materials to the centre (交接)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["MaterialsHandedOver"] = "MaterialsHandedOver"
    payload: MaterialsHandedOverPayload


class ResultDeliveredPayload(Payload):
    delivered_by: str = Field(description="Agent or staff member who delivered the result.",
                              examples=["qs-agent-dongcun"])
    delivered_at: AwareDatetime = Field(description="When, UTC.", examples=["2026-12-02T03:00:00Z"])
    acknowledgement: Acknowledgement = Field(description="How the resident acknowledged receipt, or that they "
                                             "refused to.", examples=["signature"])
    note: str = Field(default="", max_length=200, description="Anything worth knowing.", examples=["本人签收"])


class ResultDelivered(Envelope):
    """The result of a completed case was delivered to the resident (送达), with their acknowledgement."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["ResultDelivered"] = "ResultDelivered"
    payload: ResultDeliveredPayload


class RatingDimensions(Payload):
    """The four dimensions of the national scheme, for ratings given in person; each 1 … 5."""

    overall: int = Field(ge=1, le=5, description="整体满意度.", examples=[5])
    efficiency: int = Field(ge=1, le=5, description="服务效率.", examples=[5])
    competence: int = Field(ge=1, le=5, description="服务水平.", examples=[4])
    attitude: int = Field(ge=1, le=5, description="服务态度.", examples=[5])


class CaseRatedPayload(Payload):
    score: int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.", examples=[5])
    comment: str = Field(default="", max_length=500, description="Resident's comment.", examples=["办事很快"])
    bad_rating: bool = Field(description="Score of 2 or less: a follow-up (回访) is owed.", examples=[False])
    channel: RatingChannel | None = Field(
        default=None, description="Where the resident rated: the window pad, the SMS link, through their village "
        "agent, or on the status page. The rater is never named.", examples=["window_pad"])
    dimensions: RatingDimensions | None = Field(default=None, description="For ratings given in person.")
    rating_round: int = Field(default=1, ge=1, le=2, description="1: the rating of the completed case; 2: the "
                              "rating asked for again after a rectification (整改后再评价), recorded beside the first, "
                              "never replacing it.", examples=[1])
    follows_rating_id: UUID | None = Field(default=None, description="For round 2: event_id of the first rating.",
                                           examples=[None])


class CaseRated(Envelope):
    """The resident rated a completed case (好差评), or rated it again after a rectification (round 2)."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    SCHEMA_VERSION: ClassVar[str] = "1.2"
    event_type: Literal["CaseRated"] = "CaseRated"
    payload: CaseRatedPayload


class ContactErasedPayload(Payload):
    reason: str = Field(min_length=1, max_length=200, description="Why the contact was erased, as recorded by staff.",
                        examples=["申请人依《个人信息保护法》要求删除联系方式"])


class ContactErased(Envelope):
    """The resident's contact (phone number) was erased on their request (个人信息删除). The
    number is gone from every store and from the contact topic; the case history stays whole."""

    TOPIC: ClassVar[str] = INTAKE_CASES
    event_type: Literal["ContactErased"] = "ContactErased"
    payload: ContactErasedPayload


class TicketIssuedPayload(Payload):
    ticket_no: str = Field(description="Number called out in the hall: queue letter and number.", examples=["A012"])
    queue: str = Field(description="Kind of matter queued for: a department code or `general_window`.",
                       examples=["social_security"])
    issued_at: AwareDatetime = Field(description="When the ticket was taken, UTC.", examples=["2026-11-23T01:05:00Z"])


class TicketIssued(Envelope):
    """A resident took a queue ticket in the hall (取号). case_id is the ticket's id."""

    TOPIC: ClassVar[str] = INTAKE_HALL
    event_type: Literal["TicketIssued"] = "TicketIssued"
    payload: TicketIssuedPayload


class TicketCalledPayload(Payload):
    ticket_no: str = Field(description="Ticket called.", examples=["A012"])
    window_no: str = Field(description="Window that called it.", examples=["3"])
    staff_id: str = Field(description="Staff member at that window.", examples=["qs-social_security-01"])
    wait_seconds: int = Field(ge=0, description="Seconds from taking the ticket to this call.", examples=[540])
    recall: bool = Field(default=False, description="Called again after no one came.", examples=[False])


class TicketCalled(Envelope):
    """A window called a ticket (叫号)."""

    TOPIC: ClassVar[str] = INTAKE_HALL
    event_type: Literal["TicketCalled"] = "TicketCalled"
    payload: TicketCalledPayload


class ServiceStartedPayload(Payload):
    ticket_no: str = Field(description="Ticket served.", examples=["A012"])
    window_no: str = Field(description="Window serving it.", examples=["3"])
    staff_id: str = Field(description="Staff member serving.", examples=["qs-social_security-01"])
    wait_seconds: int = Field(ge=0, description="Seconds from taking the ticket to the start of service.",
                              examples=[600])


class ServiceStarted(Envelope):
    """The resident holding a ticket reached the window and service began."""

    TOPIC: ClassVar[str] = INTAKE_HALL
    event_type: Literal["ServiceStarted"] = "ServiceStarted"
    payload: ServiceStartedPayload


class ServiceEndedPayload(Payload):
    ticket_no: str = Field(description="Ticket served.", examples=["A012"])
    outcome: Literal["served", "no_show"] = Field(description="Served, or called and nobody came.",
                                                  examples=["served"])
    service_seconds: int = Field(ge=0, description="Seconds from the start of service to its end; 0 for a no-show.",
                                 examples=[420])
    case_ids: list[UUID] = Field(default_factory=list, description="Cases taken in during this service.",
                                 examples=[[]])


class ServiceEnded(Envelope):
    """The service of a ticket ended (or nobody came)."""

    TOPIC: ClassVar[str] = INTAKE_HALL
    event_type: Literal["ServiceEnded"] = "ServiceEnded"
    payload: ServiceEndedPayload


class NotificationSentPayload(Payload):
    message_id: UUID = Field(description="Id of the SMS; also the provider's idempotency key.",
                             examples=["01936f6e-2222-7000-8000-000000000002"])
    recipient_kind: RecipientKind = Field(description="Resident or staff.", examples=["resident"])
    recipient_masked: str = Field(description="Masked phone number.", examples=["138****8000"])
    template_code: str = Field(description="Template the text was rendered from.", examples=["case_submitted"])
    trigger_event_id: UUID = Field(description="Event that caused the message.",
                                   examples=["01936f6e-1d2a-7c3b-9a4f-2b6c8d0e1f23"])
    provider: str = Field(description="SMS provider used.", examples=["dev"])
    provider_message_id: str = Field(description="Provider's receipt id.", examples=["dev-01936f6e"])


class NotificationSent(Envelope):
    """An SMS was handed to the provider."""

    TOPIC: ClassVar[str] = NOTIFY_CASES
    event_type: Literal["NotificationSent"] = "NotificationSent"
    payload: NotificationSentPayload


class NotificationDeliveredPayload(Payload):
    message_id: UUID = Field(description="Id of the SMS.", examples=["01936f6e-2222-7000-8000-000000000002"])
    recipient_kind: RecipientKind = Field(description="Resident or staff.", examples=["resident"])
    template_code: str = Field(description="Template the text was rendered from.", examples=["case_submitted"])
    trigger_event_id: UUID = Field(description="Event that caused the message.",
                                   examples=["01936f6e-1d2a-7c3b-9a4f-2b6c8d0e1f23"])
    provider: str = Field(description="SMS provider that sent it.", examples=["alibaba"])
    provider_code: str = Field(description="The provider's status code in its receipt (状态报告).",
                               examples=["DELIVERED"])


class NotificationDelivered(Envelope):
    """The carrier reported the SMS delivered to the phone (状态报告)."""

    TOPIC: ClassVar[str] = NOTIFY_CASES
    event_type: Literal["NotificationDelivered"] = "NotificationDelivered"
    payload: NotificationDeliveredPayload


class NotificationFailedPayload(Payload):
    message_id: UUID = Field(description="Id of the SMS.", examples=["01936f6e-2222-7000-8000-000000000002"])
    recipient_kind: RecipientKind = Field(description="Resident or staff.", examples=["resident"])
    recipient_masked: str = Field(description="Masked phone number.", examples=["138****8000"])
    template_code: str = Field(description="Template the text was rendered from.", examples=["case_submitted"])
    trigger_event_id: UUID = Field(description="Event that caused the message.",
                                   examples=["01936f6e-1d2a-7c3b-9a4f-2b6c8d0e1f23"])
    provider: str | None = Field(description="Provider that last tried or reported; none if no provider was reached.",
                                 examples=["tencent"])
    failure: Literal["temporary", "permanent", "technical"] = Field(
        description="GOV.UK Notify's class: permanent (never sendable), temporary or technical (retries ran out).",
        examples=["permanent"])
    provider_code: str = Field(description="The provider's error or receipt code.",
                               examples=["InvalidParameterValue.IncorrectPhoneNumber"])


class NotificationFailed(Envelope):
    """The SMS will not reach the person: refused for good, retries ran out, or the carrier reported it undelivered."""

    TOPIC: ClassVar[str] = NOTIFY_CASES
    event_type: Literal["NotificationFailed"] = "NotificationFailed"
    payload: NotificationFailedPayload


# Stream id of audit's checkpoints, in place of a case id:
# uuid5(NAMESPACE_URL, "bianmin-audit-chain") = aa7c9a79-1323-5da3-96a1-68d4b69826bd.
AUDIT_CHAIN_ID: UUID = uuid5(NAMESPACE_URL, "bianmin-audit-chain")
AUDIT_TOWNSHIP_ID = "county"  # the audit chain spans every township


class AuditCheckpointedPayload(Payload):
    head_seq: int = Field(ge=1, description="Seq of the newest audit record this checkpoint covers.", examples=[1842])
    head_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hash of that record: sha256, lower-case hex.",
                           examples=["9f2c4e0b7a1d3c5e8f6a2b4d0c1e3f5a7b9d2c4e6f8a0b1c3d5e7f9a2b4c6d8e"])
    records: int = Field(ge=1, description="Records in the audit log up to and including head_seq.", examples=[1842])
    previous_head_seq: int = Field(ge=0, description="head_seq of the previous checkpoint; 0 for the first.",
                                   examples=[1790])
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$",
                        description="First 16 hex digits of sha256 over the raw 32-byte Ed25519 public key.",
                        examples=["3b1f0c9e2d7a4f86"])
    signature: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$",
                           description="Base64 of the 64-byte Ed25519 signature over the checkpoint's canonical text "
                           "(docs/adr/0007-audit.md; services/audit/checkpoints.py signed_text).",
                           examples=["O7Eu2jwpjbXeJVl/VNkk8uF+eKJq2JU+2CGO5oLwu76QIeLzAJ0VLJEb8fJexoOpAnFBZnZ6+9jlvQ+wEk7Lig=="])
    # 1.1: the signed tree head (RFC 9162) of the Merkle tree over the log; absent on 1.0 checkpoints.
    tree_size: int | None = Field(default=None, ge=1, description="Leaves of the Merkle tree this head covers: records "
                                  "1..tree_size (equal to head_seq). Absent on checkpoints before schema 1.1.",
                                  examples=[1842])
    root_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$",
                                  description="RFC 9162 Merkle tree hash of records 1..tree_size, lower-case hex "
                                  "(docs/adr/0031-audit-merkle-proofs.md). Absent on checkpoints before schema 1.1.",
                                  examples=["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"])


class AuditCheckpointed(Envelope):
    """Audit signed the head of its hash chain (审计链检查点). Inspectors keep these to detect a
    deleted tail or a rewritten log. case_id is AUDIT_CHAIN_ID, stream_version the checkpoint
    number (1, 2, 3 … without gaps), township_id "county"."""

    TOPIC: ClassVar[str] = AUDIT_CHECKPOINTS
    SCHEMA_VERSION: ClassVar[str] = "1.1"  # tree_size and root_hash: the signed Merkle tree head
    event_type: Literal["AuditCheckpointed"] = "AuditCheckpointed"
    case_id: UUID = Field(description="Always AUDIT_CHAIN_ID = uuid5(NAMESPACE_URL, 'bianmin-audit-chain').",
                          examples=[str(AUDIT_CHAIN_ID)])
    stream_version: int = Field(ge=1, description="Checkpoint number: 1, 2, 3 … without gaps.", examples=[7])
    township_id: str = Field(max_length=32, description="Always `county`: the chain spans every township.",
                             examples=[AUDIT_TOWNSHIP_ID])
    payload: AuditCheckpointedPayload


EVENT_TYPES: tuple[type[Envelope], ...] = (
    CaseSubmitted, ApplicationReceived, MaterialsRequested, MaterialsSupplied, ToleratedMaterialDue,
    CaseRejectedAtIntake, CaseReferred, ConsultationLogged, ComplaintRegistered, MaterialsHandedOver,
    ResultDelivered, CaseRated, ContactErased,
    *ROUTING_EVENT_TYPES, *RATING_LOOP_EVENT_TYPES,
    TicketIssued, TicketCalled, ServiceStarted, ServiceEnded,
    NotificationSent, NotificationDelivered, NotificationFailed, AuditCheckpointed, *STAFF_EVENT_TYPES,
    *INSPECTION_EVENT_TYPES,
)
EVENTS_BY_NAME: dict[str, type[Envelope]] = {cls.model_fields["event_type"].default: cls for cls in EVENT_TYPES}


EVENTS_BY_TOPIC: dict[str, tuple[type[Envelope], ...]] = {
    topic: tuple(cls for cls in EVENT_TYPES if cls.TOPIC == topic) for topic in dict.fromkeys(c.TOPIC for c in EVENT_TYPES)
}


def event_type_name(cls: type[Envelope]) -> str:
    return cls.model_fields["event_type"].default


def parse_event(raw: bytes | str | dict) -> Envelope:
    """Parse any bianmin event by its `event_type`; raises ValueError on anything unreadable."""
    data = json.loads(raw) if isinstance(raw, (bytes, str)) else raw
    if not isinstance(data, dict):
        raise ValueError("event is not a JSON object")
    cls = EVENTS_BY_NAME.get(data.get("event_type", ""))
    if cls is None:
        raise ValueError(f"unknown event_type {data.get('event_type')!r}")
    return cls.model_validate(data)

