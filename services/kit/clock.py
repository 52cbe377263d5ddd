"""Injected clocks: every service asks a Clock for "now", so tests and the demo can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetFileClock:
    """System time plus an offset in seconds read from a file on every call.

    Lets the demo and end-to-end tests move every service's time forward at once, and the
    offset survives a restart. Only wired when BIANMIN_CLOCK_FILE is set.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def offset(self) -> timedelta:
        try:
            return timedelta(seconds=float(self._path.read_text().strip() or 0))
        except FileNotFoundError:
            return timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()


def clock_from(path: str | None) -> Clock:
    return OffsetFileClock(Path(path)) if path else SystemClock()
