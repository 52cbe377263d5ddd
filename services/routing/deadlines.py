"""The deadline scanner (红灯): a background task that flags open cases past their promised deadline."""

from __future__ import annotations

import asyncio
import logging

from services.kit.service import Runtime
from services.routing import commands

log = logging.getLogger(__name__)


class DeadlineScanner:
    """Every `interval` seconds, emits DeadlineBreached for each overdue, unflagged case.

    Exactly once per case rests on the database (row lock + `breached_at`), not on this
    object, so restarts and several instances are safe. The counters let tests and
    readiness probes wait on real progress instead of sleeping.
    """

    def __init__(self, *, interval: float, max_per_scan: int = 500) -> None:
        self.interval, self.max_per_scan = interval, max_per_scan
        self.scans = 0  # completed scans
        self.breaches = 0
        self.failures = 0

    async def scan_once(self, runtime: Runtime) -> int:
        flagged = 0
        while flagged < self.max_per_scan:
            if await commands.flag_next_breach(runtime.pool, runtime.clock) is None:
                break
            flagged += 1
        return flagged

    async def scan_deadlines(self, runtime: Runtime) -> None:
        while True:
            try:
                self.breaches += await self.scan_once(runtime)
                self.scans += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                # The next scan retries: the failed case is still open and unflagged.
                self.failures += 1
                log.exception("deadline scan failed; retrying after the interval", extra={"failures": self.failures})
            await asyncio.sleep(self.interval)
