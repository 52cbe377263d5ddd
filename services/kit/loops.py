"""One shape for every background loop: run a round, wait, repeat; a failed round is logged
with its fault class and retried after a growing delay, and the loop itself never dies of it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from services.kit.faults import FaultCounters, describe, fault_class
from services.kit.metrics import record_loop_failure, record_loop_success

log = logging.getLogger(__name__)

# A round returns True when more work is waiting right now (run again at once), else False.
Round = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    max: float = 30.0

    def delay(self, failures: int) -> float:
        return min(self.first * 2 ** max(failures - 1, 0), self.max)


@dataclass
class LoopStats:
    """What a loop did, so tests and probes wait on progress instead of sleeping."""

    rounds: int = 0
    failures: int = 0  # failed rounds since the start
    faults: FaultCounters = field(default_factory=FaultCounters)


async def run_forever(name: str, round_: Round, *, interval: float, stats: LoopStats | None = None,
                      backoff: Backoff = Backoff(), service: str = "") -> None:
    """Runs `round_` until cancelled: at once again while it reports more work, after `interval`
    when idle, after the backoff delay when it failed (transient or not: the next round retries).
    Each round's outcome goes to the loop health metrics under (`service`, `name`)."""
    stats = stats if stats is not None else LoopStats()
    failed_in_a_row = 0
    while True:
        try:
            more = await round_()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed_in_a_row += 1
            stats.failures += 1
            record_loop_failure(service, name)
            kind = stats.faults.record(exc)
            if fault_class(exc):
                log.warning("%s round failed (transient); retrying", name,
                            extra={"loop": name, "fault": kind, "error": describe(exc), "in_a_row": failed_in_a_row})
            else:
                log.exception("%s round failed; retrying", name, extra={"loop": name, "in_a_row": failed_in_a_row})
            await asyncio.sleep(backoff.delay(failed_in_a_row))
            continue
        failed_in_a_row = 0
        stats.rounds += 1
        record_loop_success(service, name)
        if not more:
            await asyncio.sleep(interval)
