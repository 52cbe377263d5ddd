"""Routing's own metrics: deadline warnings and breaches emitted, and open cases past their deadline per township."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge

from services.kit.service import Runtime
from services.routing import store

BREACHES = Counter("bianmin_deadline_breaches", "DeadlineBreached events emitted (红灯).")
WARNINGS = Counter("bianmin_deadline_warnings", "DeadlineWarning events emitted (黄灯).")
OPEN_BREACHED = Gauge("bianmin_cases_open_breached", "Open cases past their promised deadline.", ["township"])
_townships_seen: set[str] = set()


def record_alert(event_type: str) -> None:
    """One fired timer: a warning, a breach, or nothing (the deadline moved, or the case closed)."""
    if event_type == "DeadlineBreached":
        BREACHES.inc()
    elif event_type == "DeadlineWarning":
        WARNINGS.inc()


def record_open_breached(by_township: dict[str, int]) -> None:
    """A township whose last breached case was completed goes back to 0 rather than vanishing."""
    _townships_seen.update(by_township)
    for township in _townships_seen:
        OPEN_BREACHED.labels(township).set(by_township.get(township, 0))


async def refresh_open_breached(runtime: Runtime[Any, Any]) -> None:
    async with runtime.pool.acquire() as conn:
        record_open_breached(await store.open_breached_by_township(conn))
