"""A case's timeline and the case as it stood at any instant, folded from its audit records. Pure.

The deadline state at each event is routing's clock replayed: CaseAssigned sets the deadline in force,
ClockPaused/ClockResumed stop and restart it, DeadlineExtended/DeadlineRecalculated move it,
DeadlineWarning/DeadlineBreached colour it, CaseCompleted ends it on time or late. An event after the
deadline in force is red even before routing's timer noticed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from contracts.workdays import SHANGHAI
from services.audit import labels
from services.audit.domain import AuditRecord

DeadlineColour = Literal["none", "green", "yellow", "red", "paused", "completed_on_time", "completed_late"]
DEADLINE_LABELS: dict[str, str] = {
    "none": "未计时", "green": "正常", "yellow": "临期", "red": "超期", "paused": "暂停计时",
    "completed_on_time": "按期办结", "completed_late": "超期办结",
}
CaseStatus = Literal["applied", "awaiting_materials", "submitted", "assigned", "paused", "escalated", "completed",
                     "rejected", "referred", "unknown"]
STATUS_LABELS: dict[str, str] = {
    "applied": "已收件待审查", "awaiting_materials": "待补正", "submitted": "已受理", "assigned": "办理中",
    "paused": "暂停计时", "escalated": "已上报县级", "completed": "已办结", "rejected": "不予受理",
    "referred": "已转介", "unknown": "无办件记录",
}


@dataclass(frozen=True)
class Clock:
    deadline: datetime | None = None
    paused: bool = False
    warned: bool = False
    breached: bool = False
    completed_on_time: bool | None = None

    def colour(self, at: datetime) -> DeadlineColour:
        if self.completed_on_time is not None:
            return "completed_on_time" if self.completed_on_time else "completed_late"
        if self.deadline is None:
            return "none"
        if self.paused:
            return "paused"
        if self.breached or at > self.deadline:
            return "red"
        return "yellow" if self.warned else "green"


@dataclass(frozen=True)
class Notice:
    notice_no: int
    materials: list[str]
    given_at: datetime


@dataclass(frozen=True)
class CaseState:
    """The case as the log says it stood: what an inspector asks about a past instant."""

    status: CaseStatus = "unknown"
    case_no: str | None = None
    item_name: str | None = None
    applicant_name: str | None = None
    department_code: str | None = None
    holder: str | None = None  # staff id; none while a department or the general window holds it
    clock: Clock = field(default_factory=Clock)
    notices: tuple[Notice, ...] = ()
    materials_owed: tuple[str, ...] = ()
    result: str | None = None
    rating: int | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    event_id: UUID
    event_type: str
    label: str
    actor_kind: str
    actor_id: str
    actor_label: str
    occurred_at: datetime  # Asia/Shanghai
    occurred_at_utc: datetime
    summary: str
    deadline_state: DeadlineColour
    deadline: datetime | None
    hash: str


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _clock(clock: Clock, event_type: str, p: dict[str, Any]) -> Clock:
    if event_type == "CaseAssigned":
        return replace(clock, deadline=_at(p["promised_deadline"]))
    if event_type == "CaseSubmitted" and clock.deadline is None and p.get("promised_deadline"):
        return replace(clock, deadline=_at(p["promised_deadline"]))
    if event_type == "ClockPaused":
        return replace(clock, paused=True)
    if event_type in ("ClockResumed", "DeadlineExtended", "DeadlineRecalculated"):
        # A later deadline starts the colours afresh: the warning was about the old one.
        return Clock(deadline=_at(p["promised_deadline"]), paused=False if event_type == "ClockResumed" else clock.paused,
                     completed_on_time=clock.completed_on_time)
    if event_type in ("DeadlineWarning", "DeadlineBreached") and p.get("deadline_kind", "case") == "case":
        return replace(clock, warned=True) if event_type == "DeadlineWarning" else replace(clock, breached=True)
    if event_type == "CaseCompleted":
        return replace(clock, paused=False, completed_on_time=bool(p["on_time"]),
                       deadline=_at(p["promised_deadline"]))
    return clock


def apply(state: CaseState, event_type: str, p: dict[str, Any], occurred_at: datetime) -> CaseState:
    """The case after one event."""
    state = replace(state, clock=_clock(state.clock, event_type, p))
    if event_type in ("CaseSubmitted", "ApplicationReceived", "MaterialsRequested"):
        state = replace(state, case_no=p["case_no"], item_name=p["item_name"], applicant_name=p["applicant_name"],
                        department_code=state.department_code or p["department_code"])
    match event_type:
        case "ApplicationReceived":
            return replace(state, status="applied")
        case "MaterialsRequested":
            notice = Notice(notice_no=p["notice_no"], materials=[m["name"] for m in p["materials"]],
                            given_at=occurred_at)
            return replace(state, status="awaiting_materials", notices=(*state.notices, notice),
                           materials_owed=tuple(m["code"] for m in p["materials"]))
        case "MaterialsSupplied":
            owed = tuple(p["still_owed"])
            return replace(state, materials_owed=owed,
                           status="submitted" if state.status == "awaiting_materials" and p["complete"] else state.status)
        case "CaseSubmitted":
            keep = state.status in ("assigned", "paused", "completed", "escalated")
            return replace(state, status=state.status if keep else "submitted",
                           materials_owed=tuple(p.get("materials_tolerated_missing", ())))
        case "CaseAssigned":
            active = state.status not in ("completed", "paused", "escalated")
            return replace(state, department_code=p["department_code"], holder=p.get("staff_id"),
                           status="assigned" if active else state.status)
        case "CaseTransferred":
            return replace(state, department_code=p["to_department_code"], holder=p.get("to_staff_id"))
        case "ClockPaused":
            return replace(state, status="paused")
        case "ClockResumed":
            return replace(state, status="assigned")
        case "CaseEscalated":
            return replace(state, status="escalated")
        case "EscalationAnswered":
            return replace(state, status="assigned")
        case "CaseCompleted":
            return replace(state, status="completed", result=p["result"], department_code=p["department_code"],
                           holder=p.get("staff_id") or state.holder)
        case "CaseRejectedAtIntake":
            return replace(state, status="rejected")
        case "CaseReferred":
            return replace(state, status="referred")
        case "CaseRated":
            return replace(state, rating=p["score"])
    return state


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    case: CaseState


def timeline(records: Iterable[AuditRecord], *, as_of: datetime | None = None) -> Timeline:
    """The events that had occurred by `as_of` (all, without it), in order, each with the deadline state
    it left behind, and the case they add up to."""
    state = CaseState()
    entries: list[TimelineEntry] = []
    for record in records:
        if as_of is not None and record.occurred_at > as_of:
            continue
        envelope = json.loads(record.envelope)
        payload, actor = envelope["payload"], envelope["actor"]
        state = apply(state, record.event_type, payload, record.occurred_at)
        entries.append(TimelineEntry(
            seq=record.seq, event_id=record.event_id, event_type=record.event_type,
            label=labels.event_label(record.event_type), actor_kind=actor["kind"], actor_id=actor["id"],
            actor_label=labels.role_label(actor["kind"]), occurred_at=record.occurred_at.astimezone(SHANGHAI),
            occurred_at_utc=record.occurred_at.astimezone(UTC), summary=labels.summary(record.event_type, payload),
            deadline_state=state.clock.colour(record.occurred_at), deadline=state.clock.deadline, hash=record.hash))
    return Timeline(entries=entries, case=state)
