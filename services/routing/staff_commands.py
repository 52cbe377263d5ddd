"""Who is there, the use cases: county IT records staff, staff set their presence, the centre head sets rosters
and assigns by hand, the absence scan records who is missing. Each in one transaction with its events.

Lock order, as for assignment: the township's staff rows (staff_id order), then cases (case_id order),
then `append` locks the events table.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg

from contracts.departments import DEPARTMENTS
from contracts.envelope import Actor, NewEvent
from contracts.events import AssignmentReason
from contracts.staff_events import (
    VILLAGE_POINT,
    RosterDay,
    RosterSet,
    RosterSetPayload,
    StaffAbsenceRecorded,
    StaffAbsenceRecordedPayload,
    StaffPresenceChanged,
    StaffPresenceChangedPayload,
    StaffRecorded,
    StaffRecordedPayload,
    roster_stream_id,
    staff_stream_id,
)
from contracts.workdays import SHANGHAI, WorkingCalendar
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.routing import assignment, domain, staff_store, store
from services.routing.commands import SOURCE, SYSTEM, record_holder
from services.routing.domain import CaseState
from services.routing.staff import (
    AssigneeUnknown,
    DutyHours,
    PresenceChange,
    Staff,
    StaffInactive,
    StaffNotAble,
    StaffNotFound,
    StaffOtherTownship,
    StaffRecord,
    TownshipUnknown,
    WindowWouldBeEmpty,
    absences_due,
    check_presence,
    check_record,
    check_roster,
    is_rostered_now,
    leaves_windows_empty,
)
from services.routing.staff_file import StaffFile

log = logging.getLogger(__name__)
HoursOf = Callable[[str], DutyHours]


async def record_staff(conn: asyncpg.Connection, clock: Clock, record: StaffRecord, *, actor: Actor) -> bool:
    """Creates or changes a staff member; True when anything changed. Unchanged: no event, no contact.

    Going inactive, or to another township or department, hands their open cases over.
    """
    # village_point: a village agent's (services/routing/village_agents.py checked the role goes with it)
    check_record(record, townships=await staff_store.known_townships(conn), departments=(*DEPARTMENTS, VILLAGE_POINT))
    await staff_store.lock_staff_id(conn, record.staff_id)
    current = await staff_store.get_staff(conn, record.staff_id)
    if current is not None:
        await staff_store.lock_township_staff(conn, current.township_id)
    old = await staff_store.lock_record(conn, record.staff_id)
    now = clock.now()
    directory_changed = old is None or old.directory_part() != record.directory_part()
    contact_changed = (old.contact_part() != record.contact_part()) if old else record.phone is not None
    if not directory_changed and not contact_changed:
        return False
    await staff_store.save_record(conn, record)
    if contact_changed:
        await staff_store.save_contact(conn, record, at=now)
    origin = Origin(actor=actor)
    if old is not None and (not record.active or (old.township_id, old.department_code)
                            != (record.township_id, record.department_code)):
        await _hand_over(conn, clock, staff_id=record.staff_id, origin=origin, now=now)
    if directory_changed:
        payload = StaffRecordedPayload(staff_id=record.staff_id, name=record.name, department_code=record.department_code,
                                       role=record.role, skills=list(record.skills), window_no=record.window_no,
                                       active=record.active)
        await append(conn, source=SOURCE, case_id=staff_stream_id(record.staff_id), township_id=record.township_id,
                     origin=origin, events=[NewEvent(StaffRecorded, payload)], now=now)
    return True


async def seed_staff_file(pool: asyncpg.Pool, clock: Clock, staff_file: StaffFile) -> int:
    """Loads the seed file as county IT would record it: departments, office lines, then every staff member."""
    changed = 0
    async with pool.acquire() as conn, conn.transaction():
        await store.seed_directory(conn)
        for township in staff_file.townships:
            await staff_store.save_office_lines(conn, township.township_id, enquiry_line=township.enquiry_line,
                                                office_lines=township.office_lines)
        for spec in staff_file.staff:
            changed += await record_staff(conn, clock, spec.record(), actor=SYSTEM)
    log.info("staff file loaded", extra={"staff": len(staff_file.staff), "changed": changed})
    return changed


async def set_presence(pool: asyncpg.Pool, clock: Clock, *, staff_id: str, change: PresenceChange, actor: Actor,
                       may_act: Callable[[Staff], None], hours_of: HoursOf, calendar: WorkingCalendar,
                       take_batch: int) -> tuple[Staff, int, int]:
    """在岗 / 外出 / 下班: (the staff member after, cases handed over, held cases taken)."""
    async with pool.acquire() as conn, conn.transaction():
        peek = await staff_store.get_staff(conn, staff_id)
        if peek is None:
            raise StaffNotFound()
        may_act(peek)
        colleagues = await staff_store.lock_township_staff(conn, peek.township_id)
        staff = next(s for s in colleagues if s.staff_id == staff_id)
        if not staff.active:
            raise StaffInactive()
        now = clock.now()
        hours = hours_of(staff.township_id)
        check_presence(change, now=now, hours=hours)
        roster_day = (await staff_store.roster_days_on(conn, now.astimezone(SHANGHAI).date())).get(staff.township_id)
        if leaves_windows_empty(staff, change, colleagues, day_kind=roster_day.day_kind if roster_day else None):
            raise WindowWouldBeEmpty(details={"department_code": staff.department_code})
        if (staff.presence, staff.away_reason, staff.away_until, staff.away_note) == (
                change.status, change.reason, change.away_until, change.note if change.status == "away" else ""):
            return staff, 0, 0
        await staff_store.save_presence(conn, staff_id, change, at=now)
        origin = Origin(actor=actor)
        handed = taken = 0
        if change.status == "on_duty":
            taken = await _take_held(conn, staff, origin=origin, now=now, limit=take_batch)
        else:
            handed = await _hand_over(conn, clock, staff_id=staff_id, origin=origin, now=now)
        payload = StaffPresenceChangedPayload(
            staff_id=staff_id, status=change.status, reason=change.reason, note=change.note,
            away_until=change.away_until, cases_handed_over=handed,
            rostered=is_rostered_now(staff, now, roster_day, hours=hours, calendar=calendar))
        await append(conn, source=SOURCE, case_id=staff_stream_id(staff_id), township_id=staff.township_id,
                     origin=origin, events=[NewEvent(StaffPresenceChanged, payload)], now=now)
        after = await staff_store.get_staff(conn, staff_id)
        assert after is not None
        return after, handed, taken


async def _locked_cases(conn: asyncpg.Connection, case_ids: list[UUID]) -> list[CaseState]:
    states = [await store.lock_case(conn, case_id) for case_id in sorted(case_ids)]
    return [s for s in states if s is not None]


async def _hand_over(conn: asyncpg.Connection, clock: Clock, *, staff_id: str, origin: Origin, now: datetime) -> int:
    """Each open case of a staff member no longer at their post goes to another able staff member present,
    fewest open cases first, or to the general window. The township's staff rows are locked already."""
    states = await _locked_cases(conn, await staff_store.open_case_ids(conn, staff_id))
    given: Counter[str] = Counter()
    for state in states:
        candidates = [c for c in await staff_store.lock_able_staff(
            conn, township_id=state.township_id, department_code=state.department_code, item_code=state.item_code)
            if c.staff_id != staff_id]
        candidates = [assignment.Candidate(c.staff_id, c.department_code, c.skills, c.open_cases + given[c.staff_id])
                      for c in candidates]
        holder = assignment.choose_holder(candidates, department_code=state.department_code, item_code=state.item_code)
        given[holder or ""] += 1
        await _reassign(conn, state, holder, "handover", origin=origin, now=now)
    return len(states)


async def _take_held(conn: asyncpg.Connection, staff: Staff, *, origin: Origin, now: datetime, limit: int) -> int:
    """A staff member back at their post takes the held cases they are able for, oldest deadline first."""
    if staff.role != "staff":
        return 0
    case_ids = await staff_store.held_case_ids(conn, township_id=staff.township_id,
                                               department_code=staff.department_code, skills=list(staff.skills),
                                               limit=limit)
    taken = 0
    for state in await _locked_cases(conn, case_ids):
        if state.status == "assigned" and state.held_by_general_window:
            taken += await _reassign(conn, state, staff.staff_id, "staff_returned", origin=origin, now=now)
    return taken


async def _reassign(conn: asyncpg.Connection, state: CaseState, holder: str | None, reason: AssignmentReason, *,
                    origin: Origin, now: datetime) -> int:
    events = domain.decide_reassign(state, staff_id=holder, reason=reason)
    if events:
        await record_holder(conn, state, events, origin, now=now)
    return len(events)


async def assign_by_head(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, staff_id: str, actor: Actor,
                         may_act: Callable[[CaseState], None]) -> CaseState:
    """The centre head gives a case to an active, able staff member of the township, present or not."""
    async with pool.acquire() as conn, conn.transaction():
        peek = await store.get_case(conn, case_id)
        if peek is None:
            raise domain.CaseNotFound()
        may_act(peek)
        colleagues = {s.staff_id: s for s in await staff_store.lock_township_staff(conn, peek.township_id)}
        target = colleagues.get(staff_id)
        if target is None:
            other = await staff_store.get_staff(conn, staff_id)
            raise StaffOtherTownship(details={"staff_id": staff_id}) if other else AssigneeUnknown()
        if not target.active:
            raise StaffInactive()
        state = await store.lock_case(conn, case_id)
        assert state is not None
        if not assignment.is_able(department_code=target.department_code, skills=target.skills,
                                  case_department=state.department_code, item_code=state.item_code):
            raise StaffNotAble()
        events = domain.decide_reassign(state, staff_id=staff_id, reason="centre_head")
        return await record_holder(conn, state, events, Origin(actor=actor), now=clock.now())


async def set_roster(pool: asyncpg.Pool, clock: Clock, *, township_id: str, week_of: date, days: list[RosterDay],
                     actor: Actor) -> None:
    """排班: the week's roster, replacing the one set before; RosterSet on the township's roster stream."""
    async with pool.acquire() as conn, conn.transaction():
        if township_id not in await staff_store.known_townships(conn):
            raise TownshipUnknown(details={"township_id": township_id})
        township_staff = [s.staff_id for s in await staff_store.township_staff(conn, township_id) if s.active]
        check_roster(week_of, days, township_staff=township_staff)
        ordered = sorted(days, key=lambda d: d.duty_date)
        await staff_store.save_roster(conn, township_id, week_of, ordered)
        await append(conn, source=SOURCE, case_id=roster_stream_id(township_id), township_id=township_id,
                     origin=Origin(actor=actor), events=[NewEvent(RosterSet, RosterSetPayload(week_of=week_of,
                                                                                              days=ordered))],
                     now=clock.now())


async def record_absences(pool: asyncpg.Pool, clock: Clock, *, hours_of: HoursOf, grace: timedelta,
                          calendar: WorkingCalendar) -> int:
    """One scan: StaffAbsenceRecorded for each absence not recorded yet (once per staff, day and kind)."""
    async with pool.acquire() as conn, conn.transaction():
        now = clock.now()
        staff = await staff_store.active_staff(conn)
        rosters = await staff_store.roster_days_on(conn, now.astimezone(SHANGHAI).date())
        hours = {t: hours_of(t) for t in {s.township_id for s in staff}}
        recorded = 0
        for absence in absences_due(staff, now, roster_days=rosters, hours=hours, grace=grace, calendar=calendar):
            if not await staff_store.claim_absence(conn, absence, at=now):
                continue
            payload = StaffAbsenceRecordedPayload(staff_id=absence.staff.staff_id, duty_date=absence.duty_date,
                                                  kind=absence.kind, noticed_at=now)
            await append(conn, source=SOURCE, case_id=staff_stream_id(absence.staff.staff_id),
                         township_id=absence.staff.township_id, origin=Origin(actor=SYSTEM),
                         events=[NewEvent(StaffAbsenceRecorded, payload)], now=now)
            recorded += 1
        return recorded
