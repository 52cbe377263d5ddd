"""The bad-rating loop (差评闭环) on routing's case stream (bianmin.routing.cases.v1), keyed by the case.

A rating of 不满意 or worse (CaseRated, bad_rating) opens a follow-up owned by whoever handled the case
(谁办理谁负责) and watched by the township's centre head, with two deadlines on the working-day clock:
the verification visit (回访核实, deadline key `follow_up:visit`) and the rectification (整改, key
`follow_up:rectification`), each with its own DeadlineWarning and DeadlineBreached (deadline_kind
`follow_up`). The owner may instead appeal the rating (申诉复核); the centre head decides. A second rating,
when the resident is asked again after the rectification, is a CaseRated of round 2 beside the first.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from contracts.envelope import Envelope, Payload
from contracts.topics import ROUTING_CASES

FOLLOW_UP_VISIT = "follow_up:visit"
FOLLOW_UP_RECTIFICATION = "follow_up:rectification"
ContactMeans = Literal["phone", "home_visit", "at_the_centre", "sms", "wechat", "other"]
AppealGround = Literal["wrong_case", "about_the_law", "malicious", "mistaken", "other"]
# 评价对象错误, 对法律政策本身不满, 恶意差评, 误操作, 其他

_RATING_ID = Field(description="event_id of the CaseRated this follow-up is about.",
                   examples=["0190c1d2-7a3b-7c4d-8e5f-6a7b8c9d0e1f"])


class FollowUpOpenedPayload(Payload):
    rating_event_id: UUID = _RATING_ID
    score: int = Field(ge=1, le=2, description="The bad rating: 2 不满意 or 1 非常不满意.", examples=[2])
    rating_round: int = Field(default=1, ge=1, le=2, description="1 for the first rating, 2 for the one asked "
                              "for after a rectification.", examples=[1])
    owner_staff_id: str | None = Field(description="Who handled the case and owns the follow-up (谁办理谁负责); "
                                       "none if nobody is recorded, then the centre head owns it.",
                                       examples=["qs-social_security-01"])
    department_code: str = Field(description="The department that handled the case.", examples=["social_security"])
    visit_due: AwareDatetime = Field(description="End of the working day by which the resident must be contacted.",
                                     examples=["2026-11-25T09:59:59.999999Z"])
    rectification_due: AwareDatetime = Field(description="End of the working day by which the rectification and "
                                              "the answer to the resident are due.",
                                              examples=["2026-12-01T09:59:59.999999Z"])
    visit_limit_days: int = Field(ge=1, le=5, description="Working days for the visit (county rule).", examples=[1])
    rectification_limit_days: int = Field(ge=5, le=15, description="Working days for the rectification (county "
                                          "rule).", examples=[5])
    case_no: str = Field(default="", description="Human number of the case.", examples=["QS-20261123-0001"])


class FollowUpOpened(Envelope):
    """A bad rating opened a follow-up (差评回访): its owner, the centre head watching, and its two deadlines."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["FollowUpOpened"] = "FollowUpOpened"
    payload: FollowUpOpenedPayload


class FollowUpRecordedPayload(Payload):
    rating_event_id: UUID = _RATING_ID
    reached: bool = Field(description="Whether the resident was reached.", examples=[True])
    means: ContactMeans = Field(description="How: phone, a home visit, at the centre, SMS, WeChat or other.",
                                examples=["phone"])
    resident_said: str = Field(max_length=1000, description="What the resident said (empty when not reached).",
                               examples=["反映材料被要求重复提交"])
    complaint_holds: bool | None = Field(description="Whether the complaint behind the rating holds; none when the "
                                         "resident was not reached.", examples=[True])
    staff_id: str = Field(description="Who made the visit.", examples=["qs-social_security-01"])
    on_time: bool = Field(description="Made by visit_due.", examples=[True])


class FollowUpRecorded(Envelope):
    """The verification visit (回访核实) was made and its finding recorded."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["FollowUpRecorded"] = "FollowUpRecorded"
    payload: FollowUpRecordedPayload


class RectificationRecordedPayload(Payload):
    rating_event_id: UUID = _RATING_ID
    measures: str = Field(min_length=1, max_length=1000, description="What was done (整改措施).",
                          examples=["已在窗口公示材料清单，对经办人批评教育"])
    evidence: list[str] = Field(default_factory=list, max_length=10,
                                description="Where the evidence is: document numbers, photos, minutes (each ≤ 200 "
                                "characters).", examples=[["清水镇整改通知〔2026〕3号"]])
    answer_to_resident: str = Field(min_length=1, max_length=1000, description="The answer given to the resident (sent by SMS).",
                                    examples=["您反映的重复提交材料问题已整改，感谢监督"])
    rate_again: bool = Field(default=False, description="The resident is asked to rate again; a second CaseRated "
                             "(round 2) follows if they do.", examples=[True])
    staff_id: str = Field(description="Who recorded the rectification.", examples=["qs-social_security-01"])
    on_time: bool = Field(description="Recorded by rectification_due.", examples=[True])


class RectificationRecorded(Envelope):
    """What was done about a bad rating (整改), with evidence and the answer to the resident."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["RectificationRecorded"] = "RectificationRecorded"
    payload: RectificationRecordedPayload


class RatingAppealedPayload(Payload):
    rating_event_id: UUID = _RATING_ID
    ground: AppealGround = Field(description="Why the rating is believed false or mistaken: the wrong case, a "
                                 "complaint about the law itself, malicious, mistaken, other.",
                                 examples=["about_the_law"])
    reason: str = Field(min_length=1, max_length=1000, description="The appellant's reason.",
                        examples=["申请人对低保政策标准本身不满"])
    appellant_staff_id: str = Field(description="Who appealed.", examples=["qs-civil_affairs-01"])


class RatingAppealed(Envelope):
    """A staff member appealed a bad rating (申诉复核); at most one appeal per rating."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["RatingAppealed"] = "RatingAppealed"
    payload: RatingAppealedPayload


class RatingAppealDecidedPayload(Payload):
    rating_event_id: UUID = _RATING_ID
    upheld: bool = Field(description="The appeal holds: the rating is excluded from the satisfaction rate "
                         "(满意率) but stays in the record.", examples=[True])
    reason: str = Field(min_length=1, max_length=1000, description="The centre head's reason.",
                        examples=["经核实，差评针对政策标准，非服务问题"])
    decided_by: str = Field(description="The centre head who decided; never the appellant.", examples=["qs-head"])
    appellant_staff_id: str = Field(description="Who had appealed.", examples=["qs-civil_affairs-01"])


class RatingAppealDecided(Envelope):
    """The centre head decided an appeal against a rating (申诉复核决定)."""

    TOPIC: ClassVar[str] = ROUTING_CASES
    event_type: Literal["RatingAppealDecided"] = "RatingAppealDecided"
    payload: RatingAppealDecidedPayload


RATING_LOOP_EVENT_TYPES: tuple[type[Envelope], ...] = (
    FollowUpOpened, FollowUpRecorded, RectificationRecorded, RatingAppealed, RatingAppealDecided,
)
