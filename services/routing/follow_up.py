"""Routing's pure rules of the bad-rating loop (差评闭环): a bad rating opens a follow-up owned by whoever
handled the case (谁办理谁负责); the verification visit (回访核实), the rectification (整改) after it, an
appeal (申诉复核) by the owner decided by a centre head; and the two deadlines with their alerts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from contracts.envelope import Envelope, NewEvent
from contracts.errors import DomainError
from contracts.events import CaseRated, DeadlineBreached, DeadlineWarning
from contracts.rating_events import (
    FOLLOW_UP_RECTIFICATION,
    FOLLOW_UP_VISIT,
    AppealGround,
    ContactMeans,
    FollowUpOpened,
    FollowUpOpenedPayload,
    FollowUpRecorded,
    FollowUpRecordedPayload,
    RatingAppealDecided,
    RatingAppealDecidedPayload,
    RatingAppealed,
    RatingAppealedPayload,
    RectificationRecorded,
    RectificationRecordedPayload,
)
from contracts.workdays import WorkingCalendar
from services.routing import deadline_clock as dc
from services.routing.alerts import AlertKind, Timer, alert, timers_for
from services.routing.domain import CaseState

BAD_SCORE = 2  # 2 不满意, 1 非常不满意
SUBJECTS = {FOLLOW_UP_VISIT: "差评回访", FOLLOW_UP_RECTIFICATION: "差评整改"}
Stage = Literal["visit", "rectification", "done"]
Light = Literal["green", "yellow", "red"]


class FollowUpNotFound(DomainError):
    status, code, message = 404, "FOLLOW_UP_NOT_FOUND", "该办件没有这条评价的差评回访记录"


class NotABadRating(DomainError):
    status, code, message = 409, "NOT_A_BAD_RATING", "该评价不是差评（不满意或非常不满意），无需回访整改"


class NotFollowUpOwner(DomainError):
    status, code, message = 403, "NOT_FOLLOW_UP_OWNER", "无权办理：差评回访由承办人（谁办理谁负责）或中心负责人办理"


class VisitAlreadyRecorded(DomainError):
    status, code, message = 409, "VISIT_ALREADY_RECORDED", "回访核实已记录，不能重复记录"


class VisitFindingRequired(DomainError):
    status, code, message = 422, "VISIT_FINDING_REQUIRED", "已联系到群众的，须记录群众意见及投诉是否属实"


class FindingWithoutContact(DomainError):
    status, code, message = 422, "VISIT_FINDING_WITHOUT_CONTACT", "未联系到群众的，不能认定投诉是否属实"


class VisitFirst(DomainError):
    status, code, message = 409, "VISIT_FIRST", "须先完成回访核实，再记录整改情况"


class RectificationAlreadyRecorded(DomainError):
    status, code, message = 409, "RECTIFICATION_ALREADY_RECORDED", "整改情况已记录，不能重复记录"


class RectificationIncomplete(DomainError):
    status, code, message = 422, "RECTIFICATION_INCOMPLETE", "须填写整改措施和给群众的答复"


class AppealUpheld(DomainError):
    status, code, message = 409, "APPEAL_UPHELD", "申诉已获支持，该差评不计入满意率，无需整改"


class AppealAlreadyMade(DomainError):
    status, code, message = 409, "APPEAL_ALREADY_MADE", "该评价已申诉过，每条评价只能申诉一次"


class AlreadyRectified(DomainError):
    status, code, message = 409, "ALREADY_RECTIFIED", "整改已完成，不能再申诉"


class NotAppealed(DomainError):
    status, code, message = 409, "NOT_APPEALED", "该评价尚未申诉，无需复核"


class AppealAlreadyDecided(DomainError):
    status, code, message = 409, "APPEAL_ALREADY_DECIDED", "该申诉已复核决定，不能重复决定"


class AppellantCannotDecide(DomainError):
    status, code, message = 403, "APPELLANT_CANNOT_DECIDE", "申诉人不得复核本人的申诉，须由其他中心负责人决定"


class ReasonRequired(DomainError):
    status, code, message = 422, "FOLLOW_UP_REASON_REQUIRED", "须写明理由"


@dataclass(frozen=True)
class FollowUpLimits:
    """Working days for the visit and for the rectification, as the county sets them."""

    visit_days: int = 1
    rectification_days: int = 5


@dataclass(frozen=True)
class Visit:
    reached: bool
    means: ContactMeans
    resident_said: str
    complaint_holds: bool | None


@dataclass(frozen=True)
class Rectification:
    measures: str
    evidence: tuple[str, ...]
    answer_to_resident: str
    rate_again: bool


@dataclass(frozen=True)
class FollowUpState:
    """One bad rating's follow-up as routing holds it."""

    rating_event_id: UUID
    case_id: UUID
    case_no: str
    township_id: str
    department_code: str
    item_name: str
    score: int
    rating_round: int
    owner_staff_id: str | None
    rated_at: datetime
    visit_due: datetime
    rectification_due: datetime
    visit_limit_days: int
    rectification_limit_days: int
    closed: bool = False
    visited_at: datetime | None = None
    reached: bool | None = None
    means: str | None = None
    resident_said: str | None = None
    complaint_holds: bool | None = None
    visited_by: str | None = None
    visit_on_time: bool | None = None
    rectified_at: datetime | None = None
    measures: str | None = None
    evidence: tuple[str, ...] = ()
    answer_to_resident: str | None = None
    rate_again: bool | None = None
    rectified_by: str | None = None
    rectification_on_time: bool | None = None
    appealed_at: datetime | None = None
    appeal_ground: str | None = None
    appeal_reason: str | None = None
    appellant_staff_id: str | None = None
    appeal_decided_at: datetime | None = None
    appeal_upheld: bool | None = None
    appeal_decision_reason: str | None = None
    appeal_decided_by: str | None = None
    warned_keys: tuple[str, ...] = ()
    breached_keys: tuple[str, ...] = ()

    @property
    def visit_pending(self) -> bool:
        return self.visited_at is None

    @property
    def rectification_pending(self) -> bool:
        """Owed until recorded, unless an appeal against the rating was upheld."""
        return self.rectified_at is None and self.appeal_upheld is not True

    @property
    def stage(self) -> Stage:
        if self.visit_pending:
            return "visit"
        return "rectification" if self.rectification_pending else "done"

    @property
    def next_due(self) -> datetime | None:
        return {"visit": self.visit_due, "rectification": self.rectification_due}.get(self.stage)


def is_bad(score: int) -> bool:
    return score <= BAD_SCORE


def owner_of(*, completed_by: str | None, holder: str | None, centre_head: str | None) -> str | None:
    """谁办理谁负责: who completed the case, else who holds it, else the township's centre head."""
    return completed_by or holder or centre_head


def decide_open(case: CaseState, rating: CaseRated, *, owner: str | None, limits: FollowUpLimits,
                calendar: WorkingCalendar) -> list[NewEvent]:
    """A bad rating opens a follow-up, its two deadlines counted in working days from the rating; a good one
    opens nothing."""
    p = rating.payload
    if not is_bad(p.score):
        return []
    payload = FollowUpOpenedPayload(
        rating_event_id=rating.event_id, score=p.score, rating_round=p.rating_round, owner_staff_id=owner,
        department_code=case.department_code,
        visit_due=calendar.deadline_for(rating.occurred_at, limits.visit_days),
        rectification_due=calendar.deadline_for(rating.occurred_at, limits.rectification_days),
        visit_limit_days=limits.visit_days, rectification_limit_days=limits.rectification_days, case_no=case.case_no)
    return [NewEvent(FollowUpOpened, payload)]


def opened(event: FollowUpOpened, case: CaseState, *, rated_at: datetime) -> FollowUpState:
    p = event.payload
    return FollowUpState(
        rating_event_id=p.rating_event_id, case_id=case.case_id, case_no=case.case_no, township_id=case.township_id,
        department_code=p.department_code, item_name=case.item_name, score=p.score, rating_round=p.rating_round,
        owner_staff_id=p.owner_staff_id, rated_at=rated_at, visit_due=p.visit_due,
        rectification_due=p.rectification_due, visit_limit_days=p.visit_limit_days,
        rectification_limit_days=p.rectification_limit_days)


def check_may_act(state: FollowUpState, *, caller_id: str, caller_is_head: bool) -> None:
    """The owner, or a centre head of the township (whose township the grant has checked)."""
    if not caller_is_head and caller_id != state.owner_staff_id:
        raise NotFollowUpOwner()


def _required(text: str) -> str:
    text = text.strip()
    if not text:
        raise ReasonRequired()
    return text


def decide_visit(state: FollowUpState, visit: Visit, *, staff_id: str, now: datetime) -> list[NewEvent]:
    """回访核实: once; a resident reached says something and the complaint holds or not; one not reached, neither."""
    if not state.visit_pending:
        raise VisitAlreadyRecorded()
    said = visit.resident_said.strip()
    if visit.reached and (not said or visit.complaint_holds is None):
        raise VisitFindingRequired()
    if not visit.reached and visit.complaint_holds is not None:
        raise FindingWithoutContact()
    payload = FollowUpRecordedPayload(
        rating_event_id=state.rating_event_id, reached=visit.reached, means=visit.means, resident_said=said,
        complaint_holds=visit.complaint_holds, staff_id=staff_id, on_time=now <= state.visit_due)
    return [NewEvent(FollowUpRecorded, payload)]


def decide_rectification(state: FollowUpState, rectification: Rectification, *, staff_id: str,
                         now: datetime) -> list[NewEvent]:
    """整改: after the visit, once, not once an appeal was upheld; measures and the answer both given."""
    if state.rectified_at is not None:
        raise RectificationAlreadyRecorded()
    if state.appeal_upheld:
        raise AppealUpheld()
    if state.visit_pending:
        raise VisitFirst()
    measures, answer = rectification.measures.strip(), rectification.answer_to_resident.strip()
    if not measures or not answer:
        raise RectificationIncomplete()
    evidence = [e.strip() for e in rectification.evidence if e.strip()]
    payload = RectificationRecordedPayload(
        rating_event_id=state.rating_event_id, measures=measures, evidence=evidence, answer_to_resident=answer,
        rate_again=rectification.rate_again, staff_id=staff_id, on_time=now <= state.rectification_due)
    return [NewEvent(RectificationRecorded, payload)]


def decide_appeal(state: FollowUpState, *, ground: AppealGround, reason: str, appellant_id: str) -> list[NewEvent]:
    """申诉: by the owner, at most once per rating, and not after the rectification."""
    if appellant_id != state.owner_staff_id:
        raise NotFollowUpOwner()
    if state.appealed_at is not None:
        raise AppealAlreadyMade()
    if state.rectified_at is not None:
        raise AlreadyRectified()
    payload = RatingAppealedPayload(rating_event_id=state.rating_event_id, ground=ground, reason=_required(reason),
                                    appellant_staff_id=appellant_id)
    return [NewEvent(RatingAppealed, payload)]


def decide_appeal_decision(state: FollowUpState, *, upheld: bool, reason: str, head_id: str) -> list[NewEvent]:
    """复核决定: by a centre head who did not appeal, once, only of an appeal made."""
    if state.appellant_staff_id is None:
        raise NotAppealed()
    if state.appeal_decided_at is not None:
        raise AppealAlreadyDecided()
    if head_id == state.appellant_staff_id:
        raise AppellantCannotDecide()
    payload = RatingAppealDecidedPayload(rating_event_id=state.rating_event_id, upheld=upheld,
                                         reason=_required(reason), decided_by=head_id,
                                         appellant_staff_id=state.appellant_staff_id)
    return [NewEvent(RatingAppealDecided, payload)]


def evolve(state: FollowUpState, event: Envelope) -> FollowUpState:
    at = event.occurred_at
    match event:
        case FollowUpRecorded(payload=p):
            state = replace(state, visited_at=at, reached=p.reached, means=p.means, resident_said=p.resident_said,
                            complaint_holds=p.complaint_holds, visited_by=p.staff_id, visit_on_time=p.on_time)
        case RectificationRecorded(payload=p):
            state = replace(state, rectified_at=at, measures=p.measures, evidence=tuple(p.evidence),
                            answer_to_resident=p.answer_to_resident, rate_again=p.rate_again,
                            rectified_by=p.staff_id, rectification_on_time=p.on_time)
        case RatingAppealed(payload=p):
            state = replace(state, appealed_at=at, appeal_ground=p.ground, appeal_reason=p.reason,
                            appellant_staff_id=p.appellant_staff_id)
        case RatingAppealDecided(payload=p):
            state = replace(state, appeal_decided_at=at, appeal_upheld=p.upheld, appeal_decision_reason=p.reason,
                            appeal_decided_by=p.decided_by)
        case DeadlineWarning(payload=p) if p.deadline_key not in state.warned_keys:
            state = replace(state, warned_keys=(*state.warned_keys, p.deadline_key))
        case DeadlineBreached(payload=p) if p.deadline_key not in state.breached_keys:
            state = replace(state, breached_keys=(*state.breached_keys, p.deadline_key))
    return replace(state, closed=state.stage == "done")


def pending_keys(state: FollowUpState) -> list[str]:
    return [key for key, pending in ((FOLLOW_UP_VISIT, state.visit_pending),
                                     (FOLLOW_UP_RECTIFICATION, state.rectification_pending)) if pending]


def _deadline(state: FollowUpState, key: str) -> datetime:
    return state.visit_due if key == FOLLOW_UP_VISIT else state.rectification_due


def follow_up_timers(state: FollowUpState, *, calendar: WorkingCalendar, warning_days: int) -> list[Timer]:
    """The warning and breach of each step still owed."""
    return [timer for key in pending_keys(state)
            for timer in timers_for(key, deadline=_deadline(state, key), start=state.rated_at,
                                    deadline_kind="follow_up", subject=SUBJECTS[key], calendar=calendar,
                                    warning_days=warning_days)]


def _fired(state: FollowUpState, key: str, kind: AlertKind) -> bool:
    return key in (state.warned_keys if kind == "warning" else state.breached_keys)


def decide_alert(state: FollowUpState, timer: Timer, *, now: datetime) -> list[NewEvent]:
    """A step's warning or breach while the step is owed, to the owner; each at most once, a warning never
    after its deadline."""
    if timer.deadline_key not in pending_keys(state) or _fired(state, timer.deadline_key, timer.kind):
        return []
    deadline = _deadline(state, timer.deadline_key)
    if timer.kind == "breach" and now <= deadline:
        return []
    if timer.kind == "warning" and (_fired(state, timer.deadline_key, "breach") or now > deadline):
        return []
    return [alert(timer, department_code=state.department_code, staff_id=state.owner_staff_id,
                  case_no=state.case_no, now=now)]


def colour(state: FollowUpState, *, now: datetime, calendar: WorkingCalendar, warning_days: int) -> Light:
    """Red when a step owed is past due (or was breached), yellow once its warning time is reached, else green."""
    due = state.next_due
    if due is None:
        return "red" if False in (state.visit_on_time, state.rectification_on_time) else "green"
    key = FOLLOW_UP_VISIT if state.stage == "visit" else FOLLOW_UP_RECTIFICATION
    if key in state.breached_keys or now > due:
        return "red"
    if key in state.warned_keys or now >= dc.warning_at(calendar, due, working_days=warning_days):
        return "yellow"
    return "green"


def urgency(state: FollowUpState, *, now: datetime, calendar: WorkingCalendar, warning_days: int,
            ) -> tuple[int, datetime, str]:
    """Sort key: red, then yellow, then green; the soonest due first."""
    light = colour(state, now=now, calendar=calendar, warning_days=warning_days)
    return ({"red": 0, "yellow": 1, "green": 2}[light], state.next_due or state.rated_at, state.case_no)
