"""The hall's queue tickets (取号/叫号): a small pure state machine, one event per step.

issued → called (again and again) → started → ended (served); called → ended (no_show).
A ticket lives for the day it was taken (Asia/Shanghai): another day's ticket cannot be called.
Times come from the caller's clock; a clock set back never gives a negative duration.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from contracts.envelope import NewEvent
from contracts.errors import DomainError
from contracts.events import (
    ServiceEnded,
    ServiceEndedPayload,
    ServiceStarted,
    ServiceStartedPayload,
    TicketCalled,
    TicketCalledPayload,
    TicketIssued,
    TicketIssuedPayload,
)
from contracts.workdays import SHANGHAI

GENERAL_WINDOW = "general_window"
TicketStatus = Literal["issued", "called", "started", "ended"]
Outcome = Literal["served", "no_show"]
# The general window is always queue A; departments get B, C … in the order they are first queued for.
QUEUE_LETTERS = string.ascii_uppercase


class TicketNotFound(DomainError):
    status, code, message = 404, "TICKET_NOT_FOUND", "号票不存在"


class QueueUnknown(DomainError):
    status, code, message = 404, "QUEUE_UNKNOWN", "没有这个排队队列：请选择本中心的部门或综合窗口"


class QueuesFull(DomainError):
    status, code, message = 409, "QUEUE_LETTERS_EXHAUSTED", "本中心的排队队列已满（最多26个），不能再开新队列"


class NoTicketWaiting(DomainError):
    status, code, message = 404, "NO_TICKET_WAITING", "所选队列当前没有等候的号"


class TicketNotToday(DomainError):
    status, code, message = 409, "TICKET_NOT_TODAY", "该号票不是今天取的，已作废，请重新取号"


class TicketNotCalled(DomainError):
    status, code, message = 409, "TICKET_NOT_CALLED", "该号尚未叫号或已开始办理，不能进行此操作"


class TicketNotWaiting(DomainError):
    status, code, message = 409, "TICKET_NOT_WAITING", "该号已被叫过，请使用重新叫号"


class TicketNotStarted(DomainError):
    status, code, message = 409, "TICKET_NOT_STARTED", "该号尚未开始办理，不能记为已办理；未到场请记为过号"


class TicketAlreadyEnded(DomainError):
    status, code, message = 409, "TICKET_ENDED", "该号已结束，不能再操作"


class TicketAtOtherWindow(DomainError):
    status, code, message = 409, "TICKET_AT_OTHER_WINDOW", "该号正由其他窗口叫号或办理"


class WindowBusy(DomainError):
    status, code, message = 409, "WINDOW_BUSY", "本窗口还有已叫号或正在办理的号，请先结束后再叫下一个"


class CasesOfNoShow(DomainError):
    status, code, message = 422, "NO_SHOW_WITH_CASES", "过号的号票不能关联办件"


@dataclass(frozen=True)
class Ticket:
    """What the rules need to know of one ticket."""

    ticket_no: str
    queue: str
    day: date  # the day it was taken, in Asia/Shanghai
    status: TicketStatus
    issued_at: datetime
    window_no: str | None = None  # the window that last called it
    started_at: datetime | None = None


def service_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def seconds_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def queue_letter(queue: str, taken: Iterable[str]) -> str:
    """The letter of a queue new to the township: A for the general window, else the next free one from B."""
    if queue == GENERAL_WINDOW:
        return "A"
    free = [c for c in QUEUE_LETTERS[1:] if c not in set(taken)]
    if not free:
        raise QueuesFull()
    return free[0]


def ticket_no(letter: str, number: int) -> str:
    return f"{letter}{number:03d}"


def decide_issue(*, queue: str, number: str, now: datetime) -> list[NewEvent]:
    return [NewEvent(TicketIssued, TicketIssuedPayload(ticket_no=number, queue=queue, issued_at=now))]


def _for_today(ticket: Ticket, now: datetime) -> None:
    if ticket.status == "ended":
        raise TicketAlreadyEnded()
    if ticket.day != service_day(now):
        raise TicketNotToday()


def decide_call(ticket: Ticket, *, window_no: str, staff_id: str, now: datetime) -> list[NewEvent]:
    """The first call of a waiting ticket."""
    _for_today(ticket, now)
    if ticket.status != "issued":
        raise TicketNotWaiting()
    return [NewEvent(TicketCalled, TicketCalledPayload(
        ticket_no=ticket.ticket_no, window_no=window_no, staff_id=staff_id,
        wait_seconds=seconds_between(ticket.issued_at, now)))]


def decide_recall(ticket: Ticket, *, window_no: str, staff_id: str, now: datetime) -> list[NewEvent]:
    """Calling a ticket again after nobody came: only the window that called it, before service starts."""
    _for_today(ticket, now)
    if ticket.status != "called":
        raise TicketNotCalled()
    if ticket.window_no != window_no:
        raise TicketAtOtherWindow()
    return [NewEvent(TicketCalled, TicketCalledPayload(
        ticket_no=ticket.ticket_no, window_no=window_no, staff_id=staff_id,
        wait_seconds=seconds_between(ticket.issued_at, now), recall=True))]


def decide_start(ticket: Ticket, *, window_no: str, staff_id: str, now: datetime) -> list[NewEvent]:
    _for_today(ticket, now)
    if ticket.status != "called":
        raise TicketNotCalled()
    if ticket.window_no != window_no:
        raise TicketAtOtherWindow()
    return [NewEvent(ServiceStarted, ServiceStartedPayload(
        ticket_no=ticket.ticket_no, window_no=window_no, staff_id=staff_id,
        wait_seconds=seconds_between(ticket.issued_at, now)))]


def decide_end(ticket: Ticket, *, window_no: str, outcome: Outcome, case_ids: list[UUID],
               now: datetime) -> list[NewEvent]:
    """Served after service started; no_show only for a called ticket nobody came for. A service that
    began before midnight may still end after it: only calling and starting are bound to the day."""
    if ticket.status == "ended":
        raise TicketAlreadyEnded()
    if ticket.status == "issued":
        raise TicketNotCalled()
    if ticket.window_no != window_no:
        raise TicketAtOtherWindow()
    if outcome == "served":
        if ticket.status != "started" or ticket.started_at is None:
            raise TicketNotStarted()
        seconds = seconds_between(ticket.started_at, now)
    else:
        if ticket.status != "called":
            raise TicketNotCalled()
        if case_ids:
            raise CasesOfNoShow()
        seconds = 0
    return [NewEvent(ServiceEnded, ServiceEndedPayload(
        ticket_no=ticket.ticket_no, outcome=outcome, service_seconds=seconds, case_ids=case_ids))]
