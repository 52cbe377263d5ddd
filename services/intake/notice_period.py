"""The notice period's watch (行政许可法 第三十二条): materials received for review that got neither a
notice nor an acceptance within 5 working days count as accepted on the day they arrived."""

from __future__ import annotations

import functools

from services.intake import commands
from services.intake.deps import IntakeRuntime
from services.kit.loops import LoopStats, run_forever

BATCH = 100  # per round; a round that fills it runs again at once


async def accept_lapsed(runtime: IntakeRuntime) -> bool:
    """One round; True when more may be waiting. Each acceptance is its own transaction, on a
    row lock and a status change, so several instances never accept a case twice."""
    for _ in range(BATCH):
        if await commands.accept_next_lapsed(runtime.pool, runtime.clock) is None:
            return False
    return True


async def notice_period_loop(runtime: IntakeRuntime, stats: LoopStats | None = None) -> None:
    await run_forever("notice-period", functools.partial(accept_lapsed, runtime),
                      interval=runtime.settings.notice_period_scan_interval, stats=stats, service=runtime.name)
