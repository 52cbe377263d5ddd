"""The deadline scanner (红灯): a background task that flags open cases past their promised deadline."""

from __future__ import annotations

import logging
from typing import Any

from services.kit.loops import Backoff, LoopStats, run_forever
from services.kit.service import Runtime
from services.routing import commands
from services.routing.metrics import record_breaches

log = logging.getLogger(__name__)


class DeadlineScanner:
    """Every `interval` seconds, emits DeadlineBreached for each overdue, unflagged case.

    Exactly once per case rests on the database (row lock + `breached_at`), not on this
    object, so restarts and several instances are safe. The counters let tests and
    readiness probes wait on real progress instead of sleeping.
    """

    def __init__(self, *, interval: float, max_per_scan: int = 500) -> None:
        self.interval, self.max_per_scan = interval, max_per_scan
        self.stats = LoopStats()
        self.breaches = 0

    @property
    def scans(self) -> int:  # completed scans
        return self.stats.rounds

    @property
    def failures(self) -> int:
        return self.stats.failures

    async def scan_once(self, runtime: Runtime[Any, Any]) -> int:
        flagged = 0
        while flagged < self.max_per_scan:
            if await commands.flag_next_breach(runtime.pool, runtime.clock) is None:
                break
            flagged += 1
        return flagged

    async def scan_deadlines(self, runtime: Runtime[Any, Any]) -> None:
        """A failed scan is retried by the loop: the failed case is still open and unflagged."""
        async def scan() -> bool:
            flagged = await self.scan_once(runtime)
            self.breaches += flagged
            record_breaches(flagged)
            return flagged >= self.max_per_scan  # more may be overdue right now

        await run_forever("deadline-scanner", scan, interval=self.interval, stats=self.stats,
                          backoff=Backoff(first=self.interval, max=max(self.interval, 30.0)), service=runtime.name)
