"""Routing's staff stream (bianmin.routing.staff.v1): who works where, who is at their post, who was absent.

Not about cases: each staff member is a stream of their own, keyed by `staff_stream_id(staff_id)`, and a
township's roster is the stream `roster_stream_id(township_id)`. No phone number travels here; staff
contacts go on the compacted topic only notify reads (contracts/contacts.py, StaffContact).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AwareDatetime, Field

from contracts.envelope import Envelope, Payload
from contracts.topics import ROUTING_STAFF

StaffRole = Literal["staff", "centre_head", "village_agent"]
# The department code of a village agent (代办员): not a department, never a candidate for a case.
VILLAGE_POINT = "village_point"
PresenceStatus = Literal["on_duty", "away", "off_duty"]
AwayReason = Literal["village_visit", "meeting", "leave", "training", "other"]


def staff_stream_id(staff_id: str) -> UUID:
    """The stream (and Kafka key) of one staff member's events."""
    return uuid5(NAMESPACE_URL, f"bianmin-staff:{staff_id}")


def roster_stream_id(township_id: str) -> UUID:
    """The stream of one township's roster."""
    return uuid5(NAMESPACE_URL, f"bianmin-roster:{township_id}")


class StaffRecordedPayload(Payload):
    staff_id: str = Field(max_length=64, description="Staff id.", examples=["qs-social_security-01"])
    name: str = Field(max_length=40, description="Name shown on the presence board.", examples=["王芳"])
    department_code: str = Field(description="Department the staff member belongs to.", examples=["social_security"])
    role: StaffRole = Field(description="`centre_head` (中心主任), `staff` or "
                          "`village_agent` (代办员, department `village_point`).", examples=["staff"])
    skills: list[str] = Field(default_factory=list, description="Item codes of other departments this staff member "
                              "may also handle (一专多能).", examples=[["YB-001"]])
    window_no: str | None = Field(default=None, max_length=8, description="Window in the hall, if any.",
                                  examples=["3"])
    active: bool = Field(description="False once the staff member left: no more cases.", examples=[True])


class StaffRecorded(Envelope):
    """County IT recorded a staff member, or changed their department, skills, window or role."""

    TOPIC: ClassVar[str] = ROUTING_STAFF
    event_type: Literal["StaffRecorded"] = "StaffRecorded"
    payload: StaffRecordedPayload


class StaffPresenceChangedPayload(Payload):
    staff_id: str = Field(max_length=64, description="Staff id.", examples=["qs-social_security-01"])
    status: PresenceStatus = Field(description="`on_duty` (在岗), `away` (外出, with a reason and a return time), "
                                   "`off_duty` (下班).", examples=["away"])
    reason: AwayReason | None = Field(default=None, description="Why away: 下村, 会议, 请假, 培训, 其他.",
                                      examples=["village_visit"])
    note: str = Field(default="", max_length=200, description="Where, shown on the presence board.",
                      examples=["东风村入户核查"])
    away_until: AwareDatetime | None = Field(default=None, description="Expected return, UTC.",
                                             examples=["2026-11-24T07:00:00Z"])
    rostered: bool = Field(description="The roster has this staff member on duty at this moment.", examples=[True])
    cases_handed_over: int = Field(default=0, ge=0, description="Open cases handed to others on going away.",
                                   examples=[3])


class StaffPresenceChanged(Envelope):
    """A staff member set where they are (去向公示)."""

    TOPIC: ClassVar[str] = ROUTING_STAFF
    event_type: Literal["StaffPresenceChanged"] = "StaffPresenceChanged"
    payload: StaffPresenceChangedPayload


class StaffAbsenceRecordedPayload(Payload):
    staff_id: str = Field(max_length=64, description="Staff id.", examples=["qs-social_security-01"])
    duty_date: date = Field(description="Rostered day, Asia/Shanghai.", examples=["2026-11-24"])
    kind: Literal["not_at_post", "overdue_return"] = Field(
        description="Rostered on duty but not at the post without a reason, or away past the announced return.",
        examples=["not_at_post"])
    noticed_at: AwareDatetime = Field(description="When it was noticed, UTC.", examples=["2026-11-24T01:15:00Z"])


class StaffAbsenceRecorded(Envelope):
    """A staff member was absent during duty hours without a reason (无事离岗); recorded for the centre head."""

    TOPIC: ClassVar[str] = ROUTING_STAFF
    event_type: Literal["StaffAbsenceRecorded"] = "StaffAbsenceRecorded"
    payload: StaffAbsenceRecordedPayload


class RosterDay(Payload):
    duty_date: date = Field(description="Day, Asia/Shanghai.", examples=["2026-11-24"])
    day_kind: Literal["ordinary", "market_day", "office_day"] = Field(
        description="On a market day (逢场天) or office day (集中办理日) every window must be staffed.",
        examples=["market_day"])
    staff_ids: list[str] = Field(description="Staff on duty that day (轮流值班).", examples=[["qs-social_security-01"]])


class RosterSetPayload(Payload):
    week_of: date = Field(description="Monday of the week the roster covers.", examples=["2026-11-23"])
    days: list[RosterDay] = Field(min_length=1, max_length=7, description="The week's days.")


class RosterSet(Envelope):
    """The centre head set a township's duty roster (排班) for a week."""

    TOPIC: ClassVar[str] = ROUTING_STAFF
    event_type: Literal["RosterSet"] = "RosterSet"
    payload: RosterSetPayload


STAFF_EVENT_TYPES: tuple[type[Envelope], ...] = (StaffRecorded, StaffPresenceChanged, StaffAbsenceRecorded, RosterSet)
