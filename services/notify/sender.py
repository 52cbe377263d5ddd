"""The background sender: queued messages go to the provider, then `sent` + NotificationSent in one transaction.

At-least-once towards the provider: a crash after the provider accepted a message and before
the commit sends it again, with the same message id as the provider's idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from contracts.envelope import Actor, Source
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.kit.loops import Backoff, LoopStats, run_forever
from services.notify import domain, store
from services.notify.deps import NotifyRuntime
from services.notify.metrics import record_sms
from services.notify.providers import SmsProvider

log = logging.getLogger(__name__)
SOURCE: Source = "notify"
ACTOR = Actor(kind="system", id="notify")


@dataclass(frozen=True)
class Attempt:
    message: domain.QueuedMessage
    provider_message_id: str | None = None
    error: str | None = None


async def send_loop(runtime: NotifyRuntime, stats: LoopStats | None = None) -> None:
    """Runs for the life of the process: a failed round is logged and retried by the loop."""
    settings = runtime.settings
    policy = domain.SendPolicy(max_attempts=settings.send_max_attempts, first_delay=settings.send_backoff_first,
                               max_delay=settings.send_backoff_max)

    async def send_round() -> bool:
        assert runtime.deps.provider is not None, "the provider is wired at start"
        claimed = await send_due(runtime.pool, runtime.clock, provider=runtime.deps.provider, policy=policy,
                                 batch=settings.send_batch, timeout=settings.send_timeout)
        return claimed >= settings.send_batch  # a full batch means more may be due right now

    await run_forever("sms-sender", send_round, interval=settings.send_interval, stats=stats,
                      backoff=Backoff(first=settings.send_interval, max=max(settings.send_interval, 30.0)),
                      service=runtime.name)


async def send_due(pool: asyncpg.Pool, clock: Clock, *, provider: SmsProvider, policy: domain.SendPolicy,
                   batch: int, timeout: float) -> int:
    """One round: lock up to `batch` due messages, send each, record every outcome. Returns how many were claimed."""
    async with pool.acquire() as conn, conn.transaction():
        messages = await store.claim_due(conn, now=clock.now(), limit=batch)
        # Provider calls first, then the writes: the events table lock taken by append is held only briefly.
        attempts = [await _attempt(provider, m, timeout=timeout) for m in messages]
        given_up = [await _record(conn, attempt, provider=provider.name, policy=policy, clock=clock)
                    for attempt in attempts]
    for attempt, last in zip(attempts, given_up, strict=True):  # counted once committed
        record_sms(provider.name, sent=attempt.error is None, given_up=last)
    return len(messages)


async def _attempt(provider: SmsProvider, message: domain.QueuedMessage, *, timeout: float) -> Attempt:
    try:
        provider_id = await asyncio.wait_for(
            provider.send(message_id=message.message_id, phone=message.phone, text=message.text,
                          template_code=message.template_code), timeout)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("sms attempt failed", extra={"message_id": str(message.message_id), "case_id": str(message.case_id),
                                                 "attempt": message.attempts + 1, "error_type": type(exc).__name__})
        return Attempt(message, error=repr(exc)[:500] or type(exc).__name__)
    return Attempt(message, provider_message_id=provider_id)


async def _record(conn: asyncpg.Connection, attempt: Attempt, *, provider: str, policy: domain.SendPolicy,
                  clock: Clock) -> bool:
    """Records the attempt; True when the message was given up."""
    message, now = attempt.message, clock.now()
    if attempt.error is not None:
        status, next_at = policy.after_failure(attempts=message.attempts + 1, now=now)
        await store.mark_attempt_failed(conn, message.message_id, status=status, error=attempt.error,
                                        next_attempt_at=next_at)
        if status == "failed":
            log.error("sms given up", extra={"message_id": str(message.message_id), "case_id": str(message.case_id),
                                             "attempts": message.attempts + 1})
        return status == "failed"
    receipt = attempt.provider_message_id
    assert receipt is not None  # an attempt has either an error or the provider's receipt
    await store.mark_sent(conn, message.message_id, provider=provider, provider_message_id=receipt, at=now)
    events = domain.decide_sent(message, provider=provider, provider_message_id=receipt)
    await append(conn, source=SOURCE, case_id=message.case_id, township_id=message.township_id,
                 origin=Origin(actor=ACTOR, causation_id=message.trigger_event_id), events=events, now=now)
    log.info("sms sent", extra={"message_id": str(message.message_id), "case_id": str(message.case_id)})
    return False
