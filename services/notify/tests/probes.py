"""Kafka helpers for notify's integration tests on topics other suites share."""

from __future__ import annotations

from contracts.envelope import Envelope
from services.kit.inbox import Inbox
from services.kit.testing import consume_until, publish_events
from services.notify.tests.builders import CASES

__all__ = ["consume_until", "publish", "skip_other_suites_cases"]


def skip_other_suites_cases(inbox: Inbox) -> None:
    """Acknowledge, unprocessed, events of cases these tests did not build.

    Other suites publish on the same topics while this one runs (an end-to-end system moving its
    clock makes hundreds of DeadlineBreached for cases this fresh database never saw); each would
    wait out the contact retries and hold up the partition our events are on. The key is the case id.
    """
    process = inbox.process

    async def ours_only(msg, apply) -> None:
        if (msg.raw_message.key or b"").decode(errors="replace") not in CASES:
            await msg.ack()
            return
        await process(msg, apply)

    inbox.process = ours_only


async def publish(bootstrap: str, *events: Envelope, partition: int | None = None) -> list:
    return await publish_events(bootstrap, *events, partition=partition)
