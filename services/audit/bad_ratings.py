"""The bad-rating ledger (差评台账), pure: one row per bad rating folded from CaseRated and the loop's events
(FollowUpOpened, FollowUpRecorded, RectificationRecorded, RatingAppealed, RatingAppealDecided), its dues,
its state, and the follow-up and rectification rates (ADR 37).

As in the rest of the read model, every rule gives the same row whatever the order the events come in:
the first rating, visit, rectification, appeal and decision are the earliest seen; the visit's finding is
the latest visit's (a resident not reached at first may be reached later). Due dates are the county's,
from FollowUpOpened; until it is seen (or for a log older than the loop) they are counted from the rating
with audit's own limits on the working-day calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from contracts.workdays import SHANGHAI, WorkingCalendar
from services.audit.anomalies import Limits
from services.audit.figures import PeriodUnit, rate
from services.audit.read_model import LoggedEvent

LOOP_EVENTS = frozenset({"FollowUpOpened", "FollowUpRecorded", "RectificationRecorded", "RatingAppealed",
                         "RatingAppealDecided"})
BAD_SCORE = 2  # 2 不满意, 1 非常不满意
State = Literal["open", "visited", "rectified", "appealed", "appeal_upheld", "appeal_rejected", "overdue"]
STATES: dict[str, str] = {
    "open": "待回访", "visited": "已回访", "rectified": "已整改", "appealed": "申诉中", "appeal_upheld": "申诉成立",
    "appeal_rejected": "申诉不成立", "overdue": "超期"}


@dataclass(frozen=True)
class BadRatingFacts:
    """One row of audit_bad_ratings; field names are its columns."""

    rating_event_id: UUID
    case_id: UUID | None = None
    case_no: str | None = None
    township_id: str | None = None
    department_code: str | None = None
    owner_staff_id: str | None = None
    score: int | None = None
    rating_round: int = 1
    follows_rating_id: UUID | None = None
    comment: str | None = None
    rated_at: datetime | None = None
    opened_at: datetime | None = None
    opened_event_id: UUID | None = None
    visit_due: datetime | None = None
    rectification_due: datetime | None = None
    visited_at: datetime | None = None
    visit_event_id: UUID | None = None
    visit_on_time: bool | None = None
    last_visit_at: datetime | None = None
    reached: bool | None = None
    means: str | None = None
    resident_said: str | None = None
    complaint_holds: bool | None = None
    rectified_at: datetime | None = None
    rectification_event_id: UUID | None = None
    rectification_on_time: bool | None = None
    measures: str | None = None
    answer_to_resident: str | None = None
    appealed_at: datetime | None = None
    appeal_event_id: UUID | None = None
    appeal_ground: str | None = None
    appeal_reason: str | None = None
    appellant_staff_id: str | None = None
    appeal_decided_at: datetime | None = None
    appeal_decision_event_id: UUID | None = None
    appeal_upheld: bool | None = None
    appeal_decided_by: str | None = None
    appeal_decision_reason: str | None = None
    second_score: int | None = None
    second_rated_at: datetime | None = None
    second_rating_event_id: UUID | None = None


BAD_RATING_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(BadRatingFacts))


def as_row(facts: BadRatingFacts) -> tuple[Any, ...]:
    return tuple(getattr(facts, name) for name in BAD_RATING_COLUMNS)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _earlier(current: datetime | None, at: datetime) -> bool:
    return current is None or at < current


def rows_touched(event: LoggedEvent) -> list[UUID]:
    """The bad ratings an event changes: a bad CaseRated its own row, a second rating also the first's, a loop
    event the rating it names."""
    p = event.payload
    if event.event_type == "CaseRated":
        touched = [event.event_id] if int(p.get("score", 5)) <= BAD_SCORE else []
        if int(p.get("rating_round", 1)) == 2 and p.get("follows_rating_id"):
            touched.append(UUID(str(p["follows_rating_id"])))
        return touched
    if event.event_type in LOOP_EVENTS and p.get("rating_event_id"):
        return [UUID(str(p["rating_event_id"]))]
    return []


def fold(facts: BadRatingFacts | None, rating_id: UUID, event: LoggedEvent) -> BadRatingFacts:
    """The bad rating `rating_id` after `event` (one whose rows_touched holds it)."""
    f = facts or BadRatingFacts(rating_event_id=rating_id)
    p, at, kind = event.payload, event.occurred_at, event.event_type
    changes: dict[str, Any] = {"case_id": f.case_id or event.case_id, "township_id": f.township_id or event.township_id}
    if kind == "CaseRated" and event.event_id == rating_id:
        changes |= {"score": int(p.get("score", 0)), "rating_round": int(p.get("rating_round", 1)),
                    "follows_rating_id": p.get("follows_rating_id") and UUID(str(p["follows_rating_id"])),
                    "comment": p.get("comment"), "rated_at": at}
    elif kind == "CaseRated" and _earlier(f.second_rated_at, at):  # the second rating of this one
        changes |= {"second_score": int(p.get("score", 0)), "second_rated_at": at, "second_rating_event_id": event.event_id}
    elif kind == "FollowUpOpened" and _earlier(f.opened_at, at):
        changes |= {"opened_at": at, "opened_event_id": event.event_id, "visit_due": _time(p.get("visit_due")),
                    "rectification_due": _time(p.get("rectification_due")), "owner_staff_id": p.get("owner_staff_id"),
                    "department_code": p.get("department_code"), "case_no": p.get("case_no") or f.case_no}
    elif kind == "FollowUpRecorded":
        if _earlier(f.visited_at, at):
            changes |= {"visited_at": at, "visit_event_id": event.event_id, "visit_on_time": bool(p.get("on_time"))}
        if f.last_visit_at is None or at >= f.last_visit_at:
            changes |= {"last_visit_at": at, "reached": p.get("reached"), "means": p.get("means"),
                        "resident_said": p.get("resident_said"), "complaint_holds": p.get("complaint_holds")}
    elif kind == "RectificationRecorded" and _earlier(f.rectified_at, at):
        changes |= {"rectified_at": at, "rectification_event_id": event.event_id,
                    "rectification_on_time": bool(p.get("on_time")), "measures": p.get("measures"),
                    "answer_to_resident": p.get("answer_to_resident")}
    elif kind == "RatingAppealed" and _earlier(f.appealed_at, at):
        changes |= {"appealed_at": at, "appeal_event_id": event.event_id, "appeal_ground": p.get("ground"),
                    "appeal_reason": p.get("reason"), "appellant_staff_id": p.get("appellant_staff_id")}
    elif kind == "RatingAppealDecided" and _earlier(f.appeal_decided_at, at):
        changes |= {"appeal_decided_at": at, "appeal_decision_event_id": event.event_id,
                    "appeal_upheld": p.get("upheld") is True, "appeal_decided_by": p.get("decided_by"),
                    "appeal_decision_reason": p.get("reason"),
                    "appellant_staff_id": f.appellant_staff_id or p.get("appellant_staff_id")}
    return replace(f, **changes)


Row = Mapping[str, Any]


@dataclass(frozen=True)
class Dues:
    visit: datetime
    rectification: datetime


def dues(row: Row, limits: Limits, calendar: WorkingCalendar) -> Dues:
    """The county's due dates from FollowUpOpened, else audit's limits counted from the rating."""
    rated = row["rated_at"]
    visit = row.get("visit_due") or calendar.deadline_for(rated, limits.follow_up_working_days)
    rectification = row.get("rectification_due") or calendar.deadline_for(rated, limits.rectification_working_days)
    return Dues(visit=visit, rectification=rectification)


def rectification_owed(row: Row) -> bool:
    """Only a visit finding the complaint unfounded releases the rectification; an upheld appeal removes the rating."""
    return row.get("appeal_upheld") is not True and row.get("complaint_holds") is not False


def visit_overdue(row: Row, due: Dues, now: datetime) -> bool:
    return row.get("appeal_upheld") is not True and row.get("visited_at") is None and due.visit < now


def rectification_overdue(row: Row, due: Dues, now: datetime) -> bool:
    return rectification_owed(row) and row.get("rectified_at") is None and due.rectification < now


def state_of(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> State:
    """One state per row, the first that holds: appeal_upheld, rectified, overdue, appealed, appeal_rejected,
    visited, open."""
    due = dues(row, limits, calendar)
    if row.get("appeal_upheld") is True:
        return "appeal_upheld"
    if row.get("rectified_at") is not None:
        return "rectified"
    if visit_overdue(row, due, now) or rectification_overdue(row, due, now):
        return "overdue"
    if row.get("appealed_at") is not None and row.get("appeal_upheld") is None:
        return "appealed"
    if row.get("appeal_upheld") is False:
        return "appeal_rejected"
    return "visited" if row.get("visited_at") is not None else "open"


def period_start(at: datetime, unit: PeriodUnit) -> date:
    day = at.astimezone(SHANGHAI).date()
    return day.replace(day=1) if unit == "month" else day - timedelta(days=day.weekday())


FIGURE_MEASURES = ("bad_ratings", "appeals_upheld", "visits_due", "visited_on_time", "rectifications_due",
                   "rectified_on_time")


@dataclass
class LedgerFigures:
    """A township's period of bad ratings: 回访率 = visited on time / visits due (visited, or past the visit
    due); 整改率 = rectified on time / rectifications due (complaint held, and rectified or past the due).
    A rating removed by an upheld appeal counts in appeals_upheld only."""

    township_id: str
    period_start: date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURE_MEASURES, 0))

    @property
    def follow_up_rate(self) -> float | None:
        return rate(self.counts["visited_on_time"], self.counts["visits_due"])

    @property
    def rectification_rate(self) -> float | None:
        return rate(self.counts["rectified_on_time"], self.counts["rectifications_due"])


def ledger_figures(rows: Iterable[Row], *, now: datetime, unit: PeriodUnit, limits: Limits,
                   calendar: WorkingCalendar) -> list[LedgerFigures]:
    """Rows (each with township_id and rated_at) into figures per township and period, ordered by period then
    township."""
    table: dict[tuple[str, date], LedgerFigures] = {}
    for row in rows:
        key = (row["township_id"] or "unknown", period_start(row["rated_at"], unit))
        counts = table.setdefault(key, LedgerFigures(township_id=key[0], period_start=key[1])).counts
        if row.get("appeal_upheld") is True:
            counts["appeals_upheld"] += 1
            continue
        counts["bad_ratings"] += 1
        due = dues(row, limits, calendar)
        if row.get("visited_at") is not None or due.visit < now:
            counts["visits_due"] += 1
            counts["visited_on_time"] += row.get("visit_on_time") is True
        if row.get("complaint_holds") is True and (row.get("rectified_at") is not None or due.rectification < now):
            counts["rectifications_due"] += 1
            counts["rectified_on_time"] += row.get("rectification_on_time") is True
    return [table[k] for k in sorted(table, key=lambda k: (k[1], k[0]))]
