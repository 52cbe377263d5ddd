"""Every shutdown step is bounded: one that hangs or fails is abandoned, and the next ones still run."""

from __future__ import annotations

import asyncio

import pytest

from services.kit import shutdown

pytestmark = pytest.mark.unit


async def test_a_step_that_finishes_is_reported_done():
    done = []

    async def step() -> None:
        done.append(True)

    assert await shutdown.bounded("quick", step()) is True
    assert done == [True]


async def test_a_step_that_hangs_is_abandoned_after_its_budget():
    hung = asyncio.Event()

    async def step() -> None:
        hung.set()
        await asyncio.Event().wait()  # never set: a close that would wait forever

    assert await shutdown.bounded("hangs", step(), seconds=0.05) is False
    assert hung.is_set()


async def test_a_step_that_fails_does_not_stop_the_next():
    async def step() -> None:
        raise RuntimeError("connection reset")

    assert await shutdown.bounded("fails", step()) is False

