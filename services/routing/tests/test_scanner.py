"""The scanner loop itself, with the database step replaced: it survives failures and counts its scans."""

import asyncio
from types import SimpleNamespace

import pytest

from services.kit.testing import eventually
from services.routing import commands, complaints_commands, follow_up_commands
from services.routing.deadlines import DeadlineScanner

pytestmark = pytest.mark.unit


async def _nothing_due(pool, clock):
    return None


async def test_scanner_keeps_running_after_a_failed_scan(monkeypatch):
    outcomes = iter([RuntimeError("database went away"), "DeadlineWarning", "DeadlineBreached", None])

    async def fire_next_timer(pool, clock):
        outcome = next(outcomes, None)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(commands, "fire_next_timer", fire_next_timer)
    monkeypatch.setattr(complaints_commands, "fire_next_timer", _nothing_due)
    monkeypatch.setattr(follow_up_commands, "fire_next_timer", _nothing_due)
    scanner = DeadlineScanner(interval=0.01)
    task = asyncio.create_task(scanner.scan_deadlines(SimpleNamespace(name="routing", pool=None, clock=None)))
    try:
        async def two_scans() -> bool:
            return scanner.scans >= 2

        await eventually(two_scans, timeout=5, interval=0.01, what="two scans after the failure")
        assert (scanner.failures, scanner.fired) == (1, 2)
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_one_scan_stops_at_its_limit():
    scanner = DeadlineScanner(interval=1, max_per_scan=3)
    calls = []

    async def always_one_more(pool, clock):
        calls.append(1)
        return "DeadlineBreached"

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(commands, "fire_next_timer", always_one_more)
        mp.setattr(complaints_commands, "fire_next_timer", always_one_more)
        mp.setattr(follow_up_commands, "fire_next_timer", always_one_more)
        assert await scanner.scan_once(SimpleNamespace(pool=None, clock=None)) == 3
    assert len(calls) == 3
