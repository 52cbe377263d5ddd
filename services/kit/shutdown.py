"""The shutdown budget: every step after SIGTERM is bounded, so the whole process ends well inside
the orchestrator's grace period (k8s: terminationGracePeriodSeconds after the preStop pause) instead
of being killed mid-commit by it. A step that overruns is abandoned and logged by name."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

log = logging.getLogger(__name__)

HTTP_DRAIN_SECONDS = 10.0  # uvicorn: requests in flight finish, then connections close
KAFKA_DRAIN_SECONDS = 8.0  # FastStream: handlers in flight finish before consumers leave
STEP_SECONDS = 2.0  # each of the other steps (background loops, relay, offsets, pool)
KAFKA_STOP_SECONDS = KAFKA_DRAIN_SECONDS + 2.0  # the broker's own drain, and a little margin for its close
# Worst case after SIGTERM: HTTP, Kafka, and the five other steps of services.kit.service._shut_down.
TOTAL_SECONDS = HTTP_DRAIN_SECONDS + KAFKA_STOP_SECONDS + 5 * STEP_SECONDS


async def bounded(step: str, work: Awaitable[object], *, seconds: float = STEP_SECONDS) -> bool:
    """Awaits one shutdown step for at most `seconds`; False (and a warning) when it overran or failed,
    so the next steps still run."""
    started = time.monotonic()
    try:
        await asyncio.wait_for(work, timeout=seconds)
    except TimeoutError:
        log.warning("shutdown step overran its budget; abandoned", extra={"step": step, "budget_s": seconds})
        return False
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("shutdown step failed", extra={"step": step, "error": repr(exc)})
        return False
    log.debug("shutdown step done", extra={"step": step, "took_s": round(time.monotonic() - started, 3)})
    return True
