"""The inspectors' read model, pure: how each logged event changes the facts of its case, complaint,
staff member, roster or absence (ADR 33).

Events of one case come on several topics in any order, so every rule gives the same facts whatever
the order: a moment is the earliest seen, a flag once set stays, a count is a maximum of counts the
events carry, and what changes over time (holder, deadline in force) is taken from the event with the
highest routing stream_version (intake's values rank below any of routing's). A case's rating is its
first (round 1); a second rating after a rectification, and the bad-rating loop, are kept beside it in
audit_bad_ratings (bad_ratings.py, ADR 37).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from services.audit.domain import AuditRecord

STAFF_ACTORS = frozenset({"staff", "centre_head", "village_agent"})
APPLICATION_EVENTS = frozenset({"CaseSubmitted", "ApplicationReceived", "MaterialsRequested"})
HOLDER_EVENTS = frozenset({"CaseAssigned", "CaseTransferred"})
DEADLINE_EVENTS = frozenset({"CaseAssigned", "ClockResumed", "DeadlineExtended", "DeadlineRecalculated",
                             "CaseCompleted"})
FOLLOW_UP, RECTIFICATION, RATING_APPEAL = "FollowUpRecorded", "RectificationRecorded", "RatingAppealDecided"
CASE_EVENTS = APPLICATION_EVENTS | HOLDER_EVENTS | DEADLINE_EVENTS | frozenset({
    "CaseRejectedAtIntake", "CaseRated", "CaseFlagged", "DeadlineBreached", "NotificationSent",
    FOLLOW_UP, RECTIFICATION, RATING_APPEAL})
COMPLAINT_EVENTS = frozenset({"ComplaintRegistered", "ComplaintAnswered"})
INTAKE_RANK = 0  # rank of intake's deadline and department: below routing's stream_versions (1, 2, …)


@dataclass(frozen=True)
class LoggedEvent:
    """One audit record, read back: what the fold needs of it."""

    seq: int
    event_id: UUID
    event_type: str
    case_id: UUID
    township_id: str
    source: str
    stream_version: int
    occurred_at: datetime
    actor_kind: str
    actor_id: str
    payload: Mapping[str, Any]


def logged_event(record: AuditRecord, envelope: Mapping[str, Any] | None = None) -> LoggedEvent:
    """`envelope`: the record's envelope as JSON values, when the caller has it already (a batch append)."""
    envelope = json.loads(record.envelope) if envelope is None else envelope
    actor = envelope.get("actor") or {}
    return LoggedEvent(seq=record.seq, event_id=record.event_id, event_type=record.event_type, case_id=record.case_id,
                       township_id=record.township_id, source=record.source, stream_version=record.stream_version,
                       occurred_at=record.occurred_at, actor_kind=str(actor.get("kind", "")),
                       actor_id=str(actor.get("id", "")), payload=envelope.get("payload") or {})


def as_row(fact: Any) -> tuple[Any, ...]:
    """A fact's fields in column order, shallow (dataclasses.astuple deep-copies every value)."""
    return tuple(fact.__dict__.values())


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _earliest(current: datetime | None, at: datetime | None) -> bool:
    """Whether `at` is a moment earlier than the one kept (a first occurrence replaces a later one)."""
    return at is not None and (current is None or at < current)


@dataclass(frozen=True)
class CaseFacts:
    """One row of audit_cases; field names are its columns."""

    case_id: UUID
    case_no: str | None = None
    township_id: str | None = None
    item_code: str | None = None
    item_name: str | None = None
    kind: str | None = None
    channel: str | None = None
    department_code: str | None = None
    staff_id: str | None = None
    holder_rank: int = -1
    first_contact_staff_id: str | None = None
    received_at: datetime | None = None
    submitted_at: datetime | None = None
    submitted_event_id: UUID | None = None
    promised_deadline: datetime | None = None
    deadline_rank: int = -1
    completed_at: datetime | None = None
    completed_event_id: UUID | None = None
    completed_by: str | None = None
    result: str | None = None
    on_time: bool | None = None
    breached_at: datetime | None = None
    breached_event_id: UUID | None = None
    breached_staff_id: str | None = None
    ping_pong_at: datetime | None = None
    ping_pong_event_id: UUID | None = None
    ping_pong_path: list[str] | None = None
    transfers: int = 0
    notices: int = 0
    second_notices: int = 0
    second_notice_event_id: UUID | None = None
    second_notice_at: datetime | None = None
    rejected_at: datetime | None = None
    rejected_event_id: UUID | None = None
    rejection_approved_by: str | None = None
    rejection_proposed_by: str | None = None
    resident_told_at: datetime | None = None
    resident_told_event_id: UUID | None = None
    rating_score: int | None = None
    rated_at: datetime | None = None
    rating_event_id: UUID | None = None
    rating_excluded: bool = False
    followed_up_at: datetime | None = None
    rectified_at: datetime | None = None
    # Ratings of the case removed by an upheld appeal, whichever came first: the rating or the decision.
    excluded_rating_ids: list[UUID] = field(default_factory=list)


CASE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(CaseFacts))


def touches_case(event: LoggedEvent) -> bool:
    if event.event_type == "DeadlineBreached":
        return event.payload.get("deadline_kind", "case") == "case"
    if event.event_type == "NotificationSent":
        return (event.payload.get("recipient_kind") == "resident"
                and str(event.payload.get("template_code", "")).startswith("case_completed"))
    return event.event_type in CASE_EVENTS


def fold_case(facts: CaseFacts | None, event: LoggedEvent) -> CaseFacts:
    """The case's facts after `event` (one that touches_case)."""
    f = facts or CaseFacts(case_id=event.case_id)
    p, at, kind = event.payload, event.occurred_at, event.event_type
    changes: dict[str, Any] = {} if f.township_id else {"township_id": event.township_id}
    if kind in APPLICATION_EVENTS:
        changes |= _application(f, p, at, kind, event)
    if kind in HOLDER_EVENTS and event.stream_version > f.holder_rank:
        department = p.get("department_code") if kind == "CaseAssigned" else p.get("to_department_code")
        staff = p.get("staff_id") if kind == "CaseAssigned" else p.get("to_staff_id")
        changes |= {"department_code": department, "staff_id": staff, "holder_rank": event.stream_version}
    if kind == "CaseTransferred":
        changes["transfers"] = max(f.transfers, int(p.get("transfer_count", 0)))
    if kind in DEADLINE_EVENTS and event.stream_version > f.deadline_rank and p.get("promised_deadline"):
        changes |= {"promised_deadline": _time(p["promised_deadline"]), "deadline_rank": event.stream_version}
    if kind == "CaseCompleted" and _earliest(f.completed_at, at):
        changes |= {"completed_at": at, "completed_event_id": event.event_id, "result": p.get("result"),
                    "on_time": bool(p.get("on_time")), "completed_by": p.get("staff_id") or event.actor_id}
    if kind == "DeadlineBreached" and _earliest(f.breached_at, at):
        changes |= {"breached_at": at, "breached_event_id": event.event_id, "breached_staff_id": p.get("staff_id")}
    if kind == "CaseFlagged" and p.get("reason") == "ping_pong" and _earliest(f.ping_pong_at, at):
        changes |= {"ping_pong_at": at, "ping_pong_event_id": event.event_id, "ping_pong_path": list(p.get("path", []))}
    if kind == "CaseRejectedAtIntake" and _earliest(f.rejected_at, at):
        changes |= {"rejected_at": at, "rejected_event_id": event.event_id,
                    "rejection_approved_by": p.get("approved_by"), "rejection_proposed_by": p.get("proposed_by")}
    if kind == "NotificationSent" and _earliest(f.resident_told_at, at):
        changes |= {"resident_told_at": at, "resident_told_event_id": event.event_id}
    if kind == "CaseRated" and int(p.get("rating_round", 1)) == 1 and _earliest(f.rated_at, at):
        changes |= {"rating_score": int(p.get("score", 0)), "rated_at": at, "rating_event_id": event.event_id}
    if kind == RATING_APPEAL and p.get("upheld") is True and p.get("rating_event_id"):
        changes["excluded_rating_ids"] = sorted({*f.excluded_rating_ids, UUID(str(p["rating_event_id"]))}, key=str)
    rating = changes.get("rating_event_id", f.rating_event_id)
    changes["rating_excluded"] = rating is not None and rating in changes.get("excluded_rating_ids",
                                                                                 f.excluded_rating_ids)
    if kind == FOLLOW_UP and _earliest(f.followed_up_at, at):
        changes["followed_up_at"] = at
    if kind == RECTIFICATION and _earliest(f.rectified_at, at):
        changes["rectified_at"] = at
    return CaseFacts(**(f.__dict__ | changes))  # dataclasses.replace costs twice as much on 45 fields


def _application(f: CaseFacts, p: Mapping[str, Any], at: datetime, kind: str, event: LoggedEvent) -> dict[str, Any]:
    changes: dict[str, Any] = {name: f.__dict__[name] or p.get(name) for name in (
        "case_no", "item_code", "item_name", "kind", "channel", "first_contact_staff_id")}
    if f.holder_rank < INTAKE_RANK:  # the catalogue's department until routing names a holder
        changes |= {"department_code": p.get("department_code"), "holder_rank": INTAKE_RANK}
    if kind == "CaseSubmitted":
        if _earliest(f.submitted_at, at):
            changes |= {"submitted_at": at, "submitted_event_id": event.event_id}
        if f.deadline_rank < INTAKE_RANK and p.get("promised_deadline"):
            changes |= {"promised_deadline": _time(p["promised_deadline"]), "deadline_rank": INTAKE_RANK}
    received = _time(p.get("received_at")) or (at if kind == "ApplicationReceived" else None)
    if _earliest(f.received_at, received):
        changes["received_at"] = received
    if kind == "MaterialsRequested":
        changes["notices"] = max(f.notices, int(p.get("notice_no", 1)))
        if p.get("second_notice"):
            changes["second_notices"] = f.second_notices + 1
            if _earliest(f.second_notice_at, at):
                changes |= {"second_notice_at": at, "second_notice_event_id": event.event_id}
    return changes


@dataclass(frozen=True)
class ComplaintFacts:
    """One row of audit_complaints."""

    complaint_id: UUID
    complaint_no: str | None = None
    township_id: str | None = None
    subject: str | None = None
    department_code: str | None = None
    about_staff_id: str | None = None
    registered_at: datetime | None = None
    registered_event_id: UUID | None = None
    answer_due: datetime | None = None
    answered_at: datetime | None = None
    answered_event_id: UUID | None = None
    upheld: bool | None = None


COMPLAINT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ComplaintFacts))


def fold_complaint(facts: ComplaintFacts | None, event: LoggedEvent) -> ComplaintFacts:
    f = facts or ComplaintFacts(complaint_id=event.case_id, township_id=event.township_id)
    p, at = event.payload, event.occurred_at
    if event.event_type == "ComplaintRegistered" and _earliest(f.registered_at, at):
        return replace(f, complaint_no=p.get("complaint_no"), subject=p.get("subject"),
                       department_code=p.get("department_code"), about_staff_id=p.get("about_staff_id"),
                       registered_at=at, registered_event_id=event.event_id, answer_due=_time(p.get("answer_due")))
    if event.event_type == "ComplaintAnswered" and _earliest(f.answered_at, at):
        return replace(f, answered_at=at, answered_event_id=event.event_id, upheld=bool(p.get("upheld")))
    return f


@dataclass(frozen=True)
class StaffFact:
    staff_id: str
    name: str
    role: str
    department_code: str
    township_id: str
    version: int


@dataclass(frozen=True)
class RosterDayFact:
    township_id: str
    duty_date: date
    day_kind: str
    staff_ids: list[str]
    version: int


@dataclass(frozen=True)
class AbsenceFact:
    event_id: UUID
    seq: int
    staff_id: str
    township_id: str
    duty_date: date
    kind: str
    noticed_at: datetime


def staff_fact(event: LoggedEvent) -> StaffFact | None:
    if event.event_type != "StaffRecorded":
        return None
    p = event.payload
    return StaffFact(staff_id=p["staff_id"], name=p.get("name", ""), role=p.get("role", ""),
                     department_code=p.get("department_code", ""), township_id=event.township_id,
                     version=event.stream_version)


def roster_days(event: LoggedEvent) -> list[RosterDayFact]:
    if event.event_type != "RosterSet":
        return []
    return [RosterDayFact(township_id=event.township_id, duty_date=date.fromisoformat(d["duty_date"]),
                          day_kind=d.get("day_kind", "ordinary"), staff_ids=list(d.get("staff_ids", [])),
                          version=event.stream_version) for d in event.payload.get("days", [])]


def absence(event: LoggedEvent) -> AbsenceFact | None:
    if event.event_type != "StaffAbsenceRecorded":
        return None
    p = event.payload
    noticed = _time(p.get("noticed_at")) or event.occurred_at
    return AbsenceFact(event_id=event.event_id, seq=event.seq, staff_id=p["staff_id"], township_id=event.township_id,
                       duty_date=date.fromisoformat(p["duty_date"]), kind=p.get("kind", ""), noticed_at=noticed)


@dataclass(frozen=True)
class IndexRow:
    """One row of audit_event_index: the department and staff member the event itself names."""

    seq: int
    case_id: UUID
    township_id: str
    department_code: str | None
    staff_id: str | None
    event_type: str
    occurred_at: datetime


def index_row(event: LoggedEvent) -> IndexRow:
    """The staff member is the person who acted, else the one the event names (holder, decider, absentee);
    the department is the one the event names (the new one for a transfer)."""
    p = event.payload
    named_staff = p.get("staff_id") or p.get("to_staff_id") or p.get("about_staff_id")
    staff = event.actor_id if event.actor_kind in STAFF_ACTORS else named_staff
    department = p.get("to_department_code") or p.get("department_code")
    return IndexRow(seq=event.seq, case_id=event.case_id, township_id=event.township_id,
                    department_code=department if isinstance(department, str) else None,
                    staff_id=staff if isinstance(staff, str) else None,
                    event_type=event.event_type, occurred_at=event.occurred_at)
