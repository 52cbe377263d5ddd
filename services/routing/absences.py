"""The absence scan (无事离岗): during duty hours, records who is rostered but not at their post without a
reason, or away past their announced return, once per staff member, day and kind."""

from __future__ import annotations

import logging
from datetime import timedelta

from contracts.workdays import default_calendar
from services.kit.loops import LoopStats, run_forever
from services.routing import staff_commands
from services.routing.deps import RoutingRuntime

log = logging.getLogger(__name__)


class AbsenceScanner:
    """Exactly once rests on the database (staff_absences' key), so restarts and several instances are safe;
    the counters let tests wait on real progress instead of sleeping."""

    def __init__(self) -> None:
        self.stats = LoopStats()
        self.recorded = 0

    async def scan_once(self, runtime: RoutingRuntime) -> int:
        settings = runtime.settings
        recorded = await staff_commands.record_absences(
            runtime.pool, runtime.clock, hours_of=settings.hours_of,
            grace=timedelta(minutes=settings.absence_grace_minutes), calendar=default_calendar())
        self.recorded += recorded
        if recorded:
            log.info("absences recorded", extra={"count": recorded})
        return recorded

    async def scan_absences(self, runtime: RoutingRuntime) -> None:
        async def scan() -> bool:
            await self.scan_once(runtime)
            return False

        await run_forever("absence-scanner", scan, interval=runtime.settings.absence_scan_seconds, stats=self.stats,
                          service=runtime.name)
