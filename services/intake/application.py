"""An application's way through intake, as pure rules: arrival, the one-time notice (一次性告知),
supply (补正), acceptance (受理) with tolerated materials (容缺受理), refusal (不予受理, which needs
the centre head), and the paper trail of a village agent (交接, 送达).

`fold` rebuilds an application from intake's own events of the case; each `decide_*` takes that
state and a command and returns the events to append, or raises a named DomainError.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from contracts.envelope import Envelope, NewEvent
from contracts.errors import DomainError
from contracts.events import (
    Acknowledgement,
    ApplicationFields,
    ApplicationReceived,
    ApplicationReceivedPayload,
    CaseRejectedAtIntake,
    CaseRejectedAtIntakePayload,
    CaseSubmitted,
    CaseSubmittedPayload,
    Channel,
    MaterialProblem,
    MaterialsHandedOver,
    MaterialsHandedOverPayload,
    MaterialsRequested,
    MaterialsRequestedPayload,
    MaterialsSupplied,
    MaterialsSuppliedPayload,
    NoticeMaterial,
    ResultDelivered,
    ResultDeliveredPayload,
    ToleratedMaterialDue,
    ToleratedMaterialDuePayload,
)
from contracts.workdays import WorkingCalendar
from services.intake.items import Item

# Materials that arrive without the resident at the window are reviewed first; the law gives
# the centre 5 working days to tell what is missing (行政许可法 第三十二条).
REVIEW_CHANNELS: frozenset[Channel] = frozenset({"village_point", "online"})
NOTICE_PERIOD_DAYS = 5

# "submitted" is accepted (受理): the name CaseSubmitted and the read model have always used.
Status = Literal["new", "received", "materials_requested", "submitted", "rejected"]


class ItemNotOfferedHere(DomainError):
    status, code, message = 422, "ITEM_NOT_OFFERED_HERE", "本乡镇不受理该事项，请按转介告知前往有权机关办理"


class ItemNotForAgents(DomainError):
    status, code, message = 422, "ITEM_NOT_FOR_AGENTS", "该事项不可由村代办员代办，请申请人到便民服务中心窗口办理"


class AgentNeedsVillage(DomainError):
    status, code, message = 422, "AGENT_NEEDS_VILLAGE", "代办员代办须注明村（社区）代办点，渠道为 village_point"


class UnknownVillage(DomainError):
    status, code, message = 422, "VILLAGE_NOT_FOUND", "该乡镇没有这个村（社区）代办点"


class UnknownMaterial(DomainError):
    status, code, message = 422, "MATERIAL_UNKNOWN", "提交了本事项不需要的材料代码"


class FaultyNotHandedIn(DomainError):
    status, code, message = 422, "FAULTY_NOT_HANDED_IN", "标为不合格的材料必须是本次收到的材料"


class NotAwaitingReview(DomainError):
    status, code, message = 409, "NOT_AWAITING_REVIEW", "该办件不处于待审查状态"


class NothingOwed(DomainError):
    status, code, message = 409, "NOTHING_OWED", "该办件没有需要补正或补齐的材料"


class MaterialNotOwed(DomainError):
    status, code, message = 422, "MATERIAL_NOT_OWED", "所交材料不在待补齐的材料之列"


class NoticePiecemeal(DomainError):
    status, code = 409, "NOTICE_PIECEMEAL"
    message = "一次性告知书未列明的材料不得再要求补正（事项要求未变更）；如确需，应由中心主任处理"


class CaseAlreadyAccepted(DomainError):
    status, code, message = 409, "CASE_ALREADY_ACCEPTED", "办件已受理，不能在受理环节拒绝；请由承办部门依法作出决定"


class CaseAlreadyRejected(DomainError):
    status, code, message = 409, "CASE_ALREADY_REJECTED", "该办件已不予受理"


class NoAgentOnCase(DomainError):
    status, code, message = 409, "NO_AGENT_ON_CASE", "该办件不是代办员代办的，无需交接"


class NotCaseAgent(DomainError):
    status, code, message = 403, "NOT_CASE_AGENT", "只有代办该办件的代办员可以送达结果"


class ResultNotReady(DomainError):
    status, code, message = 409, "CASE_NOT_COMPLETED", "办件尚未办结，尚无结果可送达"


class ResultAlreadyDelivered(DomainError):
    status, code, message = 409, "RESULT_ALREADY_DELIVERED", "该办件的办理结果已送达"


@dataclass(frozen=True)
class Faulty:
    """A material handed in that is not valid, with what is wrong (told in the notice)."""

    code: str
    note: str


@dataclass(frozen=True)
class Owed:
    code: str
    name: str
    problem: MaterialProblem
    note: str = ""

    def notice_material(self) -> NoticeMaterial:
        return NoticeMaterial(code=self.code, name=self.name, problem=self.problem, note=self.note)


@dataclass(frozen=True)
class Arrival:
    """A new application as the window or the agent hands it in."""

    township_id: str
    channel: Channel
    village_id: str | None
    agent_id: str | None
    first_contact_staff_id: str | None
    applicant_name: str
    applicant_id_masked: str
    provided: tuple[str, ...]
    faulty: tuple[Faulty, ...] = ()


@dataclass(frozen=True)
class Application:
    """What intake knows of one case, folded from its own events."""

    status: Status = "new"
    identity: ApplicationFields | None = None
    received_at: datetime | None = None
    notice_due: datetime | None = None
    provided: frozenset[str] = frozenset()
    owed: tuple[Owed, ...] = ()  # essential materials of the open notice
    listed: frozenset[str] = frozenset()  # every code any notice has named
    notices: int = 0
    notice_version: str | None = None  # catalogue version the latest notice was judged under
    second_notices: int = 0
    tolerated_owed: tuple[Owed, ...] = ()
    tolerated_due: datetime | None = None
    promised_deadline: datetime | None = None
    deemed_accepted: bool = False
    deadline_provisional: bool = False
    tolerated_due_provisional: bool = False
    delivered: bool = False

    @property
    def agent_id(self) -> str | None:
        return self.identity.agent_id if self.identity else None


def _identity_of(payload: ApplicationFields) -> ApplicationFields:
    return ApplicationFields(**{name: getattr(payload, name) for name in ApplicationFields.model_fields})


def evolve(app: Application, event: Envelope) -> Application:
    """Apply one of intake's own events of the case."""
    match event:
        case ApplicationReceived(payload=received):
            return replace(app, status="received", identity=_identity_of(received), received_at=event.occurred_at,
                           notice_due=received.notice_due, provided=frozenset(received.materials_received))
        case MaterialsRequested(payload=notice):
            owed = tuple(Owed(m.code, m.name, m.problem, m.note) for m in notice.materials)
            return replace(app, status="materials_requested", identity=app.identity or _identity_of(notice),
                           received_at=app.received_at or event.occurred_at, owed=owed,
                           listed=app.listed | {m.code for m in owed}, notices=notice.notice_no,
                           notice_version=notice.catalogue_version,
                           second_notices=app.second_notices + int(notice.second_notice),
                           provided=frozenset(notice.materials_in_hand))
        case MaterialsSupplied(payload=supply):
            supplied, still = set(supply.materials), set(supply.still_owed)
            if supply.notice_no is None:
                return replace(app, provided=app.provided | supplied,
                               tolerated_owed=tuple(o for o in app.tolerated_owed if o.code in still))
            return replace(app, provided=app.provided | (supplied - still),
                           owed=tuple(o for o in app.owed if o.code in still))
        case CaseSubmitted(payload=accepted):
            return replace(app, status="submitted", identity=app.identity or _identity_of(accepted), owed=(),
                           provided=frozenset(accepted.materials_provided),
                           promised_deadline=accepted.promised_deadline, deemed_accepted=accepted.deemed_accepted,
                           deadline_provisional=accepted.deadline_provisional)
        case ToleratedMaterialDue(payload=due):
            return replace(app, tolerated_owed=tuple(Owed(m.code, m.name, m.problem, m.note) for m in due.materials),
                           tolerated_due=due.due, tolerated_due_provisional=due.due_provisional)
        case CaseRejectedAtIntake():
            return replace(app, status="rejected", owed=())
        case ResultDelivered():
            return replace(app, delivered=True)
    return app


def fold(events: list[Envelope]) -> Application:
    app = Application()
    for event in events:
        app = evolve(app, event)
    return app


def _check_codes(item: Item, codes: set[str] | frozenset[str]) -> None:
    unknown = sorted(codes - {m.code for m in item.materials})
    if unknown:
        raise UnknownMaterial(details={"unknown_materials": unknown})


def owed_at_notice(item: Item, provided: frozenset[str], faulty: tuple[Faulty, ...]) -> list[Owed]:
    """Every essential material missing or handed in faulty, in catalogue order: the whole notice at once.
    A faulty tolerable material is not on it: it counts as missing, and may be tolerated (容缺)."""
    bad = {f.code: f.note for f in faulty}
    owed = []
    for m in item.materials:
        if not m.essential:
            continue
        if m.code in bad:
            owed.append(Owed(m.code, m.name, "faulty", bad[m.code] or m.valid_when))
        elif m.code not in provided:
            owed.append(Owed(m.code, m.name, "missing", m.valid_when))
    return owed


def _valid(provided: frozenset[str], faulty: tuple[Faulty, ...]) -> frozenset[str]:
    return provided - {f.code for f in faulty}


def decide_arrival(arrival: Arrival, *, item: Item, case_no: str, now: datetime, calendar: WorkingCalendar,
                   villages: frozenset[str] | None = None) -> list[NewEvent]:
    """A new application: received for review, told what is missing, or accepted on the spot.
    `villages` are the township's village points by the catalogue (None: not checked)."""
    if not item.offered_at(arrival.township_id):
        raise ItemNotOfferedHere()
    if arrival.village_id is not None and villages is not None and arrival.village_id not in villages:
        raise UnknownVillage()
    if arrival.agent_id is not None:
        if not item.agent_may_take:
            raise ItemNotForAgents()
        if arrival.channel != "village_point" or not arrival.village_id:
            raise AgentNeedsVillage()
    provided = frozenset(arrival.provided)
    _check_codes(item, provided)
    if not {f.code for f in arrival.faulty} <= provided:
        raise FaultyNotHandedIn()
    identity = ApplicationFields(
        case_no=case_no, item_code=item.item_code, item_name=item.name, catalogue_version=item.catalogue_version or None,
        kind=item.kind, department_code=item.department_code, channel=arrival.channel, village_id=arrival.village_id,
        agent_id=arrival.agent_id, first_contact_staff_id=arrival.first_contact_staff_id,
        applicant_name=arrival.applicant_name, applicant_id_masked=arrival.applicant_id_masked,
    )
    if arrival.channel in REVIEW_CHANNELS:
        if arrival.faulty:
            raise FaultyNotHandedIn(message="材料待审查时由中心工作人员判断是否合格")
        due = calendar.deadline_for(now, NOTICE_PERIOD_DAYS)
        return [NewEvent(ApplicationReceived, ApplicationReceivedPayload(
            **identity.model_dump(), materials_received=sorted(provided), notice_due=due))]
    owed = owed_at_notice(item, provided, arrival.faulty)
    received = Application(status="new", identity=identity, provided=_valid(provided, arrival.faulty))
    if owed:
        return [_notice(received, item, owed, notice_no=1)]
    return _acceptance(received, item, start=now, now=now, calendar=calendar)


def decide_review(app: Application, *, item: Item, faulty: tuple[Faulty, ...], now: datetime,
                  calendar: WorkingCalendar) -> list[NewEvent]:
    """Staff review materials received without the resident: notice or acceptance, unless the
    5 days have passed, in which case the law has accepted the case on the day they arrived."""
    if app.status != "received":
        raise NotAwaitingReview()
    if not {f.code for f in faulty} <= app.provided:
        raise FaultyNotHandedIn()
    if lapsed(app, now):
        return decide_lapse(app, item=item, now=now, calendar=calendar)
    owed = owed_at_notice(item, app.provided, faulty)
    reviewed = replace(app, provided=_valid(app.provided, faulty))
    if owed:
        return [_notice(reviewed, item, owed, notice_no=1)]
    return _acceptance(reviewed, item, start=now, now=now, calendar=calendar)


def lapsed(app: Application, now: datetime) -> bool:
    return app.status == "received" and app.notice_due is not None and now > app.notice_due


def decide_lapse(app: Application, *, item: Item, now: datetime, calendar: WorkingCalendar) -> list[NewEvent]:
    """No notice within 5 working days: accepted from the day the materials arrived, flagged."""
    if not lapsed(app, now):
        raise NotAwaitingReview()
    assert app.received_at is not None  # a received application always has its arrival time
    return _acceptance(app, item, start=app.received_at, now=now, calendar=calendar, deemed=True)


def decide_supply(app: Application, *, item: Item, previous: Item | None, supplied: tuple[str, ...],
                  faulty: tuple[Faulty, ...], additional: tuple[str, ...], now: datetime,
                  calendar: WorkingCalendar) -> list[NewEvent]:
    """The resident brings what was asked for. Checked against the notice: anything it did not
    name may be asked for only when the item's requirements changed since, as a flagged second notice.

    `previous` is the item as it stood when the last notice was given (None if unknown)."""
    given = frozenset(supplied)
    _check_codes(item, given | set(additional))
    if app.status == "submitted":
        return _supply_tolerated(app, given, faulty, additional)
    if app.status != "materials_requested":
        raise NothingOwed()
    faulty_codes = {f.code for f in faulty}
    if not faulty_codes <= given:
        raise FaultyNotHandedIn()
    changed = _new_requirements(item, previous) - app.listed - given
    owed_now = {o.code for o in app.owed}
    # Asking again for what the notice listed is allowed only while it is still owed, or when what was
    # brought for it is faulty; anything else not on the notice only as a changed requirement.
    not_allowed = sorted((set(additional) - owed_now - changed) | (faulty_codes - app.listed - changed))
    if not_allowed:
        raise NoticePiecemeal(details={"not_on_notice": not_allowed})
    still = [o for o in app.owed if o.code not in given]
    still += [Owed(f.code, _name(item, f.code), "faulty", f.note) for f in faulty if f.code in app.listed]
    still_codes = {o.code for o in still}
    # What the item now requires beyond the notice (and any `additional` the staff named is one of those).
    new = [Owed(m.code, m.name, "missing", m.valid_when) for m in item.materials
           if m.code in changed and m.code not in still_codes]
    events: list[NewEvent] = []
    if given:
        events.append(NewEvent(MaterialsSupplied, MaterialsSuppliedPayload(
            materials=sorted(given), notice_no=app.notices, still_owed=[o.code for o in still],
            complete=not still and not new)))
    if new:
        after = replace(app, provided=app.provided | (given - faulty_codes))
        events.append(_notice(after, item, still + new, notice_no=app.notices + 1, second=True))
    elif not still:
        after = replace(app, provided=app.provided | given)
        events += _acceptance(after, item, start=now, now=now, calendar=calendar)
    if not events:
        raise MaterialNotOwed()
    return events


def _supply_tolerated(app: Application, given: frozenset[str], faulty: tuple[Faulty, ...],
                      additional: tuple[str, ...]) -> list[NewEvent]:
    owed = {o.code for o in app.tolerated_owed}
    if not owed:
        raise NothingOwed()
    if additional or faulty:
        raise NoticePiecemeal(message="办件已受理，不能再以一次性告知要求补正材料")
    if not given or not given <= owed:
        raise MaterialNotOwed(details={"owed": sorted(owed)})
    still = sorted(owed - given)
    return [NewEvent(MaterialsSupplied, MaterialsSuppliedPayload(
        materials=sorted(given), notice_no=None, still_owed=still, complete=not still))]


def _new_requirements(item: Item, previous: Item | None) -> set[str]:
    """Essential materials the item requires now that it did not when the last notice was given."""
    if previous is None or previous.catalogue_version == item.catalogue_version:
        return set()
    before = {(m.code, m.valid_when) for m in previous.materials if m.essential}
    return {m.code for m in item.materials if m.essential and (m.code, m.valid_when) not in before}


def _name(item: Item, code: str) -> str:
    material = item.material(code)
    return material.name if material else code


def _notice(app: Application, item: Item, owed: list[Owed], *, notice_no: int, second: bool = False) -> NewEvent:
    assert app.identity is not None  # every application has its identity from its first event
    identity = app.identity.model_copy(update={"catalogue_version": item.catalogue_version or None})
    in_hand = app.provided - {o.code for o in owed}
    return NewEvent(MaterialsRequested, MaterialsRequestedPayload(
        **identity.model_dump(), notice_no=notice_no, materials=[o.notice_material() for o in owed],
        materials_in_hand=sorted(in_hand), second_notice=second,
        requirements_changed_from=app.notice_version if second else None))


def _acceptance(app: Application, item: Item, *, start: datetime, now: datetime, calendar: WorkingCalendar,
                deemed: bool = False) -> list[NewEvent]:
    """受理: the deadline runs from `start`; tolerable materials not in hand are owed by a due date."""
    assert app.identity is not None
    identity = app.identity.model_copy(update={"catalogue_version": item.catalogue_version or None})
    tolerated = [m for m in item.materials if not m.essential and m.code not in app.provided]
    deadline = calendar.deadline_for(start, item.promised_limit_days)
    events = [NewEvent(CaseSubmitted, CaseSubmittedPayload(
        **identity.model_dump(), materials_provided=sorted(app.provided),
        materials_tolerated_missing=[m.code for m in tolerated], promised_limit_days=item.promised_limit_days,
        promised_deadline=deadline, received_at=app.received_at, notices_given=app.notices, deemed_accepted=deemed,
        # The catalogue never promises beyond the legal limit; a test's bare item may leave it at 0.
        legal_limit_days=max(item.legal_limit_days, item.promised_limit_days),
        joint_department_codes=list(item.joint_departments),
        deadline_provisional=calendar.deadline_is_provisional(start, deadline)))]
    if tolerated:
        due = calendar.deadline_for(now, item.tolerated_due_days)
        events.append(NewEvent(ToleratedMaterialDue, ToleratedMaterialDuePayload(
            materials=[NoticeMaterial(code=m.code, name=m.name, problem="missing", note=m.valid_when)
                       for m in tolerated],
            due=due, due_provisional=calendar.deadline_is_provisional(now, due))))
    return events


def decide_rejection(app: Application, *, reason: str, legal_basis: str, proposed_by: str | None,
                     approved_by: str) -> list[NewEvent]:
    """不予受理 with the centre head's approval; only before acceptance (after it, the department decides)."""
    if app.status == "submitted":
        raise CaseAlreadyAccepted()
    if app.status == "rejected":
        raise CaseAlreadyRejected()
    return [NewEvent(CaseRejectedAtIntake, CaseRejectedAtIntakePayload(
        reason=reason, legal_basis=legal_basis,
        proposed_by=proposed_by or (app.identity.first_contact_staff_id if app.identity else None),
        approved_by=approved_by))]


def decide_handover(app: Application, *, item: Item, received_by: str, materials: tuple[str, ...],
                    now: datetime) -> list[NewEvent]:
    """交接: the agent's paper materials reach the centre; who took them over is recorded."""
    if app.agent_id is None:
        raise NoAgentOnCase()
    if app.status == "rejected":
        raise CaseAlreadyRejected()
    _check_codes(item, set(materials))
    return [NewEvent(MaterialsHandedOver, MaterialsHandedOverPayload(
        agent_id=app.agent_id, received_by=received_by, materials=sorted(set(materials)), handed_over_at=now))]


def decide_delivery(app: Application, *, completed: bool, delivered_by: str, by_agent: bool,
                    acknowledgement: Acknowledgement, note: str, now: datetime) -> list[NewEvent]:
    """送达: the result reaches the resident, who acknowledges it (or refuses to, which is recorded too)."""
    if by_agent and delivered_by != app.agent_id:
        raise NotCaseAgent()
    if not completed:
        raise ResultNotReady()
    if app.delivered:
        raise ResultAlreadyDelivered()
    return [NewEvent(ResultDelivered, ResultDeliveredPayload(
        delivered_by=delivered_by, delivered_at=now, acknowledgement=acknowledgement, note=note))]
