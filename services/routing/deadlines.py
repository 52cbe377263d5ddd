"""The timer loop (黄灯 / 红灯): fires every due warning and breach of cases, complaints and follow-ups.

Exactly once per deadline rests on the database (the timer row, fired in the transaction that appends
the event, and the case's fired keys), not on this object, so restarts and several instances are safe:
a timer that fell due while the service was down fires at the first scan after it is back. The
counters let tests and readiness probes wait on real progress instead of sleeping.
"""

from __future__ import annotations

import logging

from services.kit.loops import Backoff, LoopStats, run_forever
from services.kit.service import Runtime
from services.routing import commands, complaints_commands, follow_up_commands
from services.routing.metrics import record_alert

log = logging.getLogger(__name__)


class DeadlineScanner:
    """Every `interval` seconds, fires the timers due by now, up to `max_per_scan` at a time."""

    def __init__(self, *, interval: float, max_per_scan: int = 500) -> None:
        self.interval, self.max_per_scan = interval, max_per_scan
        self.stats = LoopStats()
        self.fired = 0

    @property
    def scans(self) -> int:  # completed scans
        return self.stats.rounds

    @property
    def failures(self) -> int:
        return self.stats.failures

    async def scan_once(self, runtime: Runtime) -> int:
        fired = 0
        for fire in (commands.fire_next_timer, complaints_commands.fire_next_timer, follow_up_commands.fire_next_timer):
            while fired < self.max_per_scan and (event_type := await fire(runtime.pool, runtime.clock)) is not None:
                record_alert(event_type)
                fired += 1
        return fired

    async def scan_deadlines(self, runtime: Runtime) -> None:
        """A failed scan is retried by the loop: the timer it failed on is still unfired."""
        async def scan() -> bool:
            fired = await self.scan_once(runtime)
            self.fired += fired
            return fired >= self.max_per_scan  # more may be due right now

        await run_forever("deadline-scanner", scan, interval=self.interval, stats=self.stats,
                          backoff=Backoff(first=self.interval, max=max(self.interval, 30.0)), service=runtime.name)
