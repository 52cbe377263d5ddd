"""When a queued SMS may go, and with which others: per-number limits, merging, quiet hours. Pure.

The sender asks `plan` once per round and per number, with the messages it claimed for that number
and the provider calls already made to it. Every message comes out either in a `Send` (alone, or
merged with others of the same number into one provider call) or in a `Wait` until an instant:
nothing is ever dropped here.

- Urgent templates (`URGENT_TEMPLATES`: staff breach alerts) go alone, at once, day or night; only
  the per-number limits can hold them, since a provider would refuse the call anyway.
- Any other message waits out the quiet hours (default 21:30-08:00 Asia/Shanghai), then waits for
  the merge window counted from the oldest message queued for the number, so that several events
  close together reach the person as one SMS (a zero window: no merging); then the limits.
- Limits are per number and counted over provider calls (a merged SMS is one call): at most
  `per_minute`, `per_hour` and `per_day` in any rolling minute, hour and 24 hours, and the same text
  at most once in `same_text`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts.workdays import SHANGHAI

# Templates whose message goes out at once, whatever the hour, and never merged with others.
URGENT_TEMPLATES = frozenset({"deadline_breached"})
WaitReason = Literal["quiet_hours", "merge_window", "rate_limit"]
_SIGNATURE = re.compile(r"^【[^】]*】")


@dataclass(frozen=True)
class Pending:
    """A queued message as the rules see it."""

    message_id: UUID
    template_code: str
    text: str
    created_at: datetime
    merge_served: bool = False  # it already waited out a merge window: it waits for no other


@dataclass(frozen=True)
class PastCall:
    """One provider call already made to the number."""

    at: datetime
    text: str


@dataclass(frozen=True)
class Send:
    """One provider call: the first message carries the others; `text` is what the provider gets."""

    messages: tuple[Pending, ...]
    text: str


@dataclass(frozen=True)
class Wait:
    messages: tuple[Pending, ...]
    until: datetime
    reason: WaitReason


@dataclass(frozen=True)
class SendRules:
    per_minute: int = 2
    per_hour: int = 5
    per_day: int = 10
    same_text: timedelta = timedelta(hours=24)
    merge_window: timedelta = timedelta(seconds=60)  # zero: no merging, each message its own SMS
    quiet_start: time = time(21, 30)
    quiet_end: time = time(8, 0)  # equal to quiet_start: no quiet hours
    merged_max_chars: int = 500  # the providers' longest SMS; beyond it the rest goes in the next one
    zone: ZoneInfo = field(default=SHANGHAI)

    @property
    def lookback(self) -> timedelta:
        """How far back the provider calls to a number matter."""
        return max(timedelta(hours=24), self.same_text)

    @property
    def longest_hold(self) -> timedelta:
        """No rule holds a message longer: one held beyond it was held before the clock moved back."""
        return max(self.lookback, self.merge_window, timedelta(hours=24))

    def is_urgent(self, template_code: str) -> bool:
        return template_code in URGENT_TEMPLATES

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` falls in, or None in the day."""
        if self.quiet_start == self.quiet_end:
            return None
        local = now.astimezone(self.zone)
        clock = local.time()
        overnight = self.quiet_start > self.quiet_end
        inside = (clock >= self.quiet_start or clock < self.quiet_end) if overnight else \
            self.quiet_start <= clock < self.quiet_end
        if not inside:
            return None
        end = datetime.combine(local.date(), self.quiet_end, tzinfo=self.zone)
        return end if end > local else end + timedelta(days=1)

    def allowed_from(self, history: Sequence[PastCall], text: str, *, now: datetime) -> datetime:
        """The earliest instant, `now` or later, at which one more call with `text` keeps every limit."""
        earliest = now
        # A call "in the future" was made before the clock moved back (demo, tests): it holds nothing.
        history = [c for c in history if c.at <= now]
        recent = sorted((c.at for c in history), reverse=True)
        for window, limit in ((timedelta(minutes=1), self.per_minute), (timedelta(hours=1), self.per_hour),
                              (timedelta(hours=24), self.per_day)):
            inside = [at for at in recent if at > now - window]
            if len(inside) >= limit:
                # Free again when the limit-th most recent call leaves the window.
                earliest = max(earliest, inside[limit - 1] + window)
        same = [c.at for c in history if c.text == text and c.at > now - self.same_text]
        if same:
            earliest = max(earliest, max(same) + self.same_text)
        return earliest


def merge_texts(texts: Sequence[str]) -> str:
    """One SMS out of several: the first one's signature once, then each text without its own."""
    first = _SIGNATURE.match(texts[0])
    signature = first.group(0) if first else ""
    return signature + "".join(_SIGNATURE.sub("", t, count=1) if t.startswith(signature) else t for t in texts)


def plan(pending: Sequence[Pending], history: Sequence[PastCall], *, now: datetime,
         rules: SendRules) -> list[Send | Wait]:
    """What to do now with the messages claimed for one number (oldest first)."""
    calls = list(history)
    steps: list[Send | Wait] = []

    def through_limits(group: tuple[Pending, ...], text: str) -> None:
        ready = rules.allowed_from(calls, text, now=now)
        if ready > now:
            steps.append(Wait(group, ready, "rate_limit"))
            return
        steps.append(Send(group, text))
        calls.append(PastCall(now, text))  # the next call this round counts this one

    urgent = [m for m in pending if rules.is_urgent(m.template_code)]
    ordinary = tuple(m for m in pending if not rules.is_urgent(m.template_code))
    for message in urgent:
        through_limits((message,), message.text)
    if not ordinary:
        return steps
    quiet_end = rules.quiet_until(now)
    if quiet_end is not None:
        steps.append(Wait(ordinary, quiet_end, "quiet_hours"))
        return steps
    merge_until = min(now, *(m.created_at for m in ordinary)) + rules.merge_window
    if merge_until > now and not any(m.merge_served for m in ordinary):
        steps.append(Wait(ordinary, merge_until, "merge_window"))
        return steps
    groups = _chunks(ordinary, rules.merged_max_chars) if rules.merge_window else [(m,) for m in ordinary]
    for group in groups:
        through_limits(group, merge_texts([m.text for m in group]))
    return steps


def _chunks(messages: tuple[Pending, ...], max_chars: int) -> list[tuple[Pending, ...]]:
    """Consecutive groups whose merged text stays within `max_chars` (a longer message goes alone)."""
    groups: list[tuple[Pending, ...]] = []
    current: tuple[Pending, ...] = ()
    for message in messages:
        candidate = (*current, message)
        if current and len(merge_texts([m.text for m in candidate])) > max_chars:
            groups.append(current)
            candidate = (message,)
        current = candidate
    if current:
        groups.append(current)
    return groups


# Every rule out of the way: for benchmarks and tests of other parts that text one number many times.
NO_RULES = SendRules(per_minute=10**6, per_hour=10**6, per_day=10**6, same_text=timedelta(0), merge_window=timedelta(0),
                     quiet_start=time(0, 0), quiet_end=time(0, 0))
