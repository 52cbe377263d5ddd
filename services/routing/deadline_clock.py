"""The deadline clock's pure rules: the deadline in force, pauses, the one extension, warning times.

A case's deadline is counted from its start in working days on the official calendar
(contracts.workdays): its promised limit, plus the working days it stood paused, plus its one
extension. Counting from the start each time, instead of moving a date, keeps the result the same
whichever order pauses and extension came in, and lets the whole clock be recounted when next
year's official holiday schedule replaces the provisional one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from contracts.errors import DomainError
from contracts.workdays import SHANGHAI, WorkingCalendar

# A warning goes out at the start of the working day it concerns, not at midnight.
WARNING_LOCAL_TIME = time(8, 0)


class ClockAlreadyPaused(DomainError):
    status, code, message = 409, "CLOCK_ALREADY_PAUSED", "办件已暂停计时，请先恢复计时"


class ClockNotPaused(DomainError):
    status, code, message = 409, "CLOCK_NOT_PAUSED", "办件未暂停计时"


class DeadlinePassed(DomainError):
    status, code, message = 409, "DEADLINE_PASSED", "办件已超过办结期限，不能再暂停计时或延期"


class ExtensionAlreadyGranted(DomainError):
    status, code, message = 409, "EXTENSION_ALREADY_GRANTED", "办件已延期一次，依法不得再次延期"


class ExtensionPastLegalLimit(DomainError):
    status, code = 422, "EXTENSION_PAST_LEGAL_LIMIT"
    message = "延期后的办理时限超过法定时限，不予延期"


class ExtensionReasonRequired(DomainError):
    status, code, message = 422, "EXTENSION_REASON_REQUIRED", "延期须写明理由"


class PauseNoteRequired(DomainError):
    status, code, message = 422, "PAUSE_NOTE_REQUIRED", "暂停计时须写明等待的事项"


@dataclass(frozen=True)
class Clock:
    """What the deadline of one case is counted from."""

    start: datetime            # acceptance (or receipt, when accepted by law after 5 working days)
    limit_days: int            # promised limit, working days
    legal_limit_days: int | None  # no extension may pass it; None: unknown, no extension
    paused_working_days: int = 0
    paused_since: datetime | None = None
    extension_days: int = 0

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    @property
    def counted_days(self) -> int:
        return self.limit_days + self.paused_working_days + self.extension_days


def local_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def deadline_in_force(calendar: WorkingCalendar, clock: Clock) -> datetime:
    """End of the last working day: limit + paused working days + extension, from the start."""
    return calendar.deadline_for(clock.start, clock.counted_days)


def is_provisional(calendar: WorkingCalendar, clock: Clock, deadline: datetime) -> bool:
    """Counted through a year whose official holiday schedule is not yet published."""
    return calendar.provisional_between(local_day(clock.start), local_day(deadline))


def pause_credit(calendar: WorkingCalendar, paused_since: datetime, now: datetime) -> int:
    """Working days a pause adds: those after the day it began, up to and including the day it ends.

    Paused and resumed on the same day adds nothing; the day the pause began was already worked.
    """
    return calendar.working_days_between(local_day(paused_since), local_day(now))


def paused(clock: Clock, *, now: datetime, deadline: datetime) -> Clock:
    """The clock stopped at `now`; a deadline that already passed cannot be stopped any more."""
    if clock.paused:
        raise ClockAlreadyPaused()
    if now > deadline:
        raise DeadlinePassed()
    return Clock(clock.start, clock.limit_days, clock.legal_limit_days, clock.paused_working_days, now,
                 clock.extension_days)


def resumed(calendar: WorkingCalendar, clock: Clock, *, now: datetime) -> tuple[Clock, int]:
    """(the clock running again, the working days this pause added)."""
    if clock.paused_since is None:
        raise ClockNotPaused()
    credit = pause_credit(calendar, clock.paused_since, now)
    return Clock(clock.start, clock.limit_days, clock.legal_limit_days, clock.paused_working_days + credit, None,
                 clock.extension_days), credit


def extended(clock: Clock, *, days: int, reason: str, now: datetime, deadline: datetime) -> Clock:
    """延期: once, before the deadline passes, with a written reason, never past the legal limit."""
    if not reason.strip():
        raise ExtensionReasonRequired()
    if clock.extension_days:
        raise ExtensionAlreadyGranted()
    if now > deadline:
        raise DeadlinePassed()
    legal = clock.legal_limit_days if clock.legal_limit_days is not None else clock.limit_days
    if days < 1 or clock.limit_days + days > legal:
        raise ExtensionPastLegalLimit(details={"limit_days": clock.limit_days, "legal_limit_days": legal,
                                               "most_days": max(legal - clock.limit_days, 0)})
    return Clock(clock.start, clock.limit_days, clock.legal_limit_days, clock.paused_working_days,
                 clock.paused_since, days)


def legal_deadline(calendar: WorkingCalendar, clock: Clock) -> datetime:
    """The latest the law allows: the legal limit plus the working days the clock stood, from the start."""
    legal = clock.legal_limit_days if clock.legal_limit_days is not None else clock.limit_days
    return calendar.deadline_for(clock.start, max(legal, clock.limit_days) + clock.paused_working_days)


def on_time(calendar: WorkingCalendar, clock: Clock, *, now: datetime) -> bool:
    """For a case decided while its clock stands: by the deadline in force with the pause counted up to now."""
    if clock.paused_since is not None:
        clock, _ = resumed(calendar, clock, now=now)
    return now <= deadline_in_force(calendar, clock)


def warning_at(calendar: WorkingCalendar, deadline: datetime, *, working_days: int) -> datetime:
    """08:00 on the working day that leaves `working_days` working days, the deadline's own day included.

    With the default of one, the warning comes on the morning of the last day.
    """
    day = local_day(deadline)
    left = 1
    while left < working_days:
        day = _previous_working_day(calendar, day)
        left += 1
    return datetime.combine(day, WARNING_LOCAL_TIME, tzinfo=SHANGHAI).astimezone(UTC)


def _previous_working_day(calendar: WorkingCalendar, day: date) -> date:
    day = date.fromordinal(day.toordinal() - 1)
    while not calendar.is_working_day(day):
        day = date.fromordinal(day.toordinal() - 1)
    return day
