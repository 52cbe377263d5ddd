"""Who is there: pure rules of presence (去向), duty hours, rosters (排班), absences and the presence board.

Times are UTC in and out; the working day, duty hours and rosters are read in Asia/Shanghai.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from contracts.errors import DomainError
from contracts.staff_events import AwayReason, PresenceStatus, RosterDay, StaffRole
from contracts.workdays import SHANGHAI, CalendarYearUnknown, WorkingCalendar
from services.routing.domain import UnknownDepartment

SPECIAL_DAYS = ("market_day", "office_day")  # 逢场天, 集中办理日: every window staffed
STATUS_LABELS = {"on_duty": "在岗", "off_duty": "下班"}
AWAY_LABELS: dict[str, str] = {"village_visit": "下村", "meeting": "会议", "leave": "请假", "training": "培训",
                               "other": "外出"}
AbsenceKind = Literal["not_at_post", "overdue_return"]
ITEM_CODE = re.compile(r"[A-Z]{2,4}-[0-9]{3}", re.ASCII)


class StaffNotFound(DomainError):
    status, code, message = 404, "STAFF_NOT_FOUND", "工作人员不存在"


class TownshipUnknown(DomainError):
    status, code, message = 422, "TOWNSHIP_UNKNOWN", "乡镇不存在，请从名录中选择"


class SkillInvalid(DomainError):
    status, code, message = 422, "SKILL_INVALID", "技能须为服务事项编码（如 YB-001）"


class StaffInactive(DomainError):
    status, code, message = 409, "STAFF_INACTIVE", "该工作人员已停用，不能设置去向或分派办件"


class NotOwnPresence(DomainError):
    status, code, message = 403, "NOT_OWN_PRESENCE", "无权设置他人去向：只能设置本人去向，或由本中心负责人设置"


class AwayReasonRequired(DomainError):
    status, code, message = 422, "AWAY_REASON_REQUIRED", "外出须选择事由（下村、会议、请假、培训、其他）并填写返回时间"


class PresenceFieldsUnexpected(DomainError):
    status, code, message = 422, "PRESENCE_FIELDS_UNEXPECTED", "在岗或下班时不填写外出事由和返回时间"


class PresenceTimeInPast(DomainError):
    status, code, message = 422, "PRESENCE_TIME_PAST", "返回时间须晚于当前时间"


class AwayBeyondWorkingDay(DomainError):
    status, code, message = 422, "AWAY_BEYOND_WORKING_DAY", "除请假外，外出须在当天下班前返回"


class WindowWouldBeEmpty(DomainError):
    status, code = 409, "WINDOW_WOULD_BE_EMPTY"
    message = "今天是逢场天或集中办理日，本部门窗口须有人在岗：请先安排同事到岗，或经中心负责人批准后以请假登记"


class RosterWeekNotMonday(DomainError):
    status, code, message = 422, "ROSTER_WEEK_NOT_MONDAY", "排班须按周设置，日期须为该周星期一"


class RosterDayOutsideWeek(DomainError):
    status, code, message = 422, "ROSTER_DAY_OUTSIDE_WEEK", "排班日期须在该周之内，且每天只排一次"


class RosterStaffUnknown(DomainError):
    status, code, message = 422, "ROSTER_STAFF_UNKNOWN", "排班人员须为本乡镇在职工作人员"


class StaffOtherTownship(DomainError):
    status, code, message = 422, "STAFF_OTHER_TOWNSHIP", "只能分派给本乡镇的工作人员"


class AssigneeUnknown(DomainError):
    status, code, message = 422, "ASSIGNEE_UNKNOWN", "被分派的工作人员不存在"


class StaffNotAble(DomainError):
    status, code, message = 409, "STAFF_NOT_ABLE", "该工作人员不属承办部门，也不具备此事项的办理技能"


@dataclass(frozen=True)
class StaffRecord:
    """What county IT records of a staff member (the seed file's rows, the PUT endpoint's body)."""

    staff_id: str
    township_id: str
    department_code: str
    role: StaffRole
    name: str
    window_no: str | None = None
    skills: tuple[str, ...] = ()
    phone: str | None = None
    active: bool = True

    def directory_part(self) -> tuple[object, ...]:
        """What StaffRecorded says: a change here appends one (the phone travels only as a contact)."""
        return (self.township_id, self.department_code, self.role, self.name, self.window_no, self.skills, self.active)

    def contact_part(self) -> tuple[object, ...]:
        """What the staff contact record says: a change here publishes a new one."""
        return (self.township_id, self.department_code, self.role, self.name, self.phone if self.active else None)


@dataclass(frozen=True)
class Staff:
    """A staff member as routing holds them, with where they are."""

    staff_id: str
    township_id: str
    department_code: str
    role: StaffRole
    name: str
    window_no: str | None
    skills: tuple[str, ...]
    active: bool
    presence: PresenceStatus = "on_duty"
    away_reason: AwayReason | None = None
    away_note: str = ""
    away_until: datetime | None = None


@dataclass(frozen=True)
class PresenceChange:
    status: PresenceStatus
    reason: AwayReason | None = None
    away_until: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class DutyHours:
    """A township's duty periods of a duty day, e.g. 08:30-12:00 and 14:00-17:30, Asia/Shanghai."""

    periods: tuple[tuple[time, time], ...]

    def period_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The duty period (UTC start, end) that `at` falls in, if any."""
        local = at.astimezone(SHANGHAI)
        for start, end in self.periods:
            begins, ends = (datetime.combine(local.date(), t, SHANGHAI) for t in (start, end))
            if begins <= local < ends:
                return begins, ends
        return None

    def day_end(self, day: date) -> datetime:
        """When the last duty period of `day` ends."""
        return datetime.combine(day, self.periods[-1][1], SHANGHAI)


def parse_duty_hours(text: str) -> DutyHours:
    """'08:30-12:00,14:00-17:30' -> DutyHours; ValueError when periods are malformed, empty or out of order."""
    periods: list[tuple[time, time]] = []
    for part in (p.strip() for p in text.split(",")):
        start_text, sep, end_text = part.partition("-")
        try:
            start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
        except ValueError:
            raise ValueError(f"duty period {part!r} is not HH:MM-HH:MM") from None
        if not sep or start >= end or (periods and start < periods[-1][1]):
            raise ValueError(f"duty period {part!r} is empty or overlaps the one before")
        periods.append((start, end))
    return DutyHours(tuple(periods))


def check_record(record: StaffRecord, *, townships: Iterable[str], departments: Iterable[str]) -> None:
    """County IT's record refers to a known township and department, and skills are item codes by shape."""
    if record.township_id not in set(townships):
        raise TownshipUnknown(details={"township_id": record.township_id})
    if record.department_code not in set(departments):
        raise UnknownDepartment(details={"department_code": record.department_code})
    if bad := [s for s in record.skills if not ITEM_CODE.fullmatch(s)]:
        raise SkillInvalid(details={"skills": bad})


def check_presence(change: PresenceChange, *, now: datetime, hours: DutyHours) -> None:
    """Away needs a reason and a return later today (before the duty day ends), or for leave a later day too."""
    if change.status != "away":
        if change.reason is not None or change.away_until is not None:
            raise PresenceFieldsUnexpected()
        return
    if change.reason is None or change.away_until is None:
        raise AwayReasonRequired()
    if change.away_until <= now:
        raise PresenceTimeInPast()
    if change.reason != "leave" and change.away_until > hours.day_end(now.astimezone(SHANGHAI).date()):
        raise AwayBeyondWorkingDay()


def may_set_presence(*, role: str, sub: str, staff: Staff) -> None:
    """Staff set their own presence; the centre head (township checked by the grant) anyone's of the centre."""
    if role != "centre_head" and sub != staff.staff_id:
        raise NotOwnPresence()


def leaves_windows_empty(staff: Staff, change: PresenceChange, colleagues: Iterable[Staff], *,
                         day_kind: str | None) -> bool:
    """On a market or office day, leaving the post must leave someone of the department at it.

    Leave (请假) is the one way out: it is approved by the centre head beforehand, who arranges cover.
    """
    if day_kind not in SPECIAL_DAYS or change.status == "on_duty" or change.reason == "leave":
        return False
    if staff.presence != "on_duty":  # not at the post already: going away changes nothing at the window
        return False
    return not any(c.staff_id != staff.staff_id and c.active and c.presence == "on_duty"
                   and c.department_code == staff.department_code for c in colleagues)


def check_roster(week_of: date, days: Iterable[RosterDay], *, township_staff: Iterable[str]) -> None:
    if week_of.weekday() != 0:
        raise RosterWeekNotMonday()
    seen: set[date] = set()
    known = set(township_staff)
    for day in days:
        if not week_of <= day.duty_date < week_of + timedelta(days=7) or day.duty_date in seen:
            raise RosterDayOutsideWeek(details={"duty_date": day.duty_date.isoformat()})
        seen.add(day.duty_date)
        if unknown := sorted(set(day.staff_ids) - known):
            raise RosterStaffUnknown(details={"staff_ids": unknown})


def is_rostered_day(staff: Staff, day: date, roster_day: RosterDay | None, calendar: WorkingCalendar) -> bool:
    """On a roster's day, those it lists; on a day without one, every active staff member on working days.

    A year the calendar does not know counts as no working day: an absence is never recorded on a guess.
    """
    if roster_day is not None:
        return staff.staff_id in roster_day.staff_ids
    try:
        return staff.active and calendar.is_working_day(day)
    except CalendarYearUnknown:
        return False


def is_rostered_now(staff: Staff, now: datetime, roster_day: RosterDay | None, *, hours: DutyHours,
                    calendar: WorkingCalendar) -> bool:
    day = now.astimezone(SHANGHAI).date()
    return hours.period_at(now) is not None and is_rostered_day(staff, day, roster_day, calendar)


@dataclass(frozen=True)
class Absence:
    staff: Staff
    duty_date: date
    kind: AbsenceKind


def absences_due(staff: Iterable[Staff], now: datetime, *, roster_days: Mapping[str, RosterDay],
                 hours: Mapping[str, DutyHours], grace: timedelta, calendar: WorkingCalendar) -> list[Absence]:
    """Rostered staff not at their post `grace` into a duty period without a reason, or away past their return.

    `roster_days` and `hours` are keyed by township; the database keeps each (staff, day, kind) once.
    """
    day = now.astimezone(SHANGHAI).date()
    found: list[Absence] = []
    for s in staff:
        township_hours = hours[s.township_id]
        period = township_hours.period_at(now)
        if not s.active or period is None or now < period[0] + grace:
            continue
        if not is_rostered_day(s, day, roster_days.get(s.township_id), calendar):
            continue
        if s.presence == "off_duty" or (s.presence == "away" and s.away_reason is None):
            found.append(Absence(s, day, "not_at_post"))
        elif s.presence == "away" and s.away_until is not None and now > s.away_until + grace:
            found.append(Absence(s, day, "overdue_return"))
    return found


@dataclass(frozen=True)
class BoardEntry:
    name: str
    department_name: str
    window_no: str | None
    status: str
    status_label: str
    note: str
    back_at: datetime | None
    contact_phone: str


@dataclass(frozen=True)
class OfficeLines:
    enquiry_line: str
    by_department: dict[str, str] = field(default_factory=dict)

    def for_department(self, department_code: str) -> str:
        return self.by_department.get(department_code, self.enquiry_line)


def status_label(s: Staff) -> str:
    if s.presence == "away":
        return AWAY_LABELS.get(s.away_reason or "other", "外出")
    return STATUS_LABELS[s.presence]


def board(staff: Iterable[Staff], *, department_names: Mapping[str, str], lines: OfficeLines) -> list[BoardEntry]:
    """去向公示: every active staff member of a centre, where they are and an office number to reach them.

    Never a personal mobile number: routing's staff rows hold none, and the lines are the office's.
    """
    # Village agents work in their villages, not in the centre: not on its board.
    rows = sorted((s for s in staff if s.active and s.role != "village_agent"),
                  key=lambda s: (s.role != "centre_head", s.department_code, s.staff_id))
    return [BoardEntry(name=s.name, department_name=department_names.get(s.department_code, s.department_code),
                       window_no=s.window_no, status=s.presence, status_label=status_label(s),
                       note=s.away_note if s.presence == "away" else "",
                       back_at=s.away_until if s.presence == "away" else None,
                       contact_phone=lines.for_department(s.department_code)) for s in rows]
