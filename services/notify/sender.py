"""The background sender: queued messages go to the provider, then `sent` + NotificationSent in one transaction.

Between the two, the sending rules (send_rules.py) hold a message (quiet hours, merge window,
per-number limits) or merge several to one number into one SMS; each merged message is `sent` with
the id of the message whose call carried it (`sent_in`) and announces its own NotificationSent.

At-least-once towards the provider: a crash after the provider accepted a message and before
the commit sends it again, with the same message id as the provider's idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from contracts.envelope import Actor, Source
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.kit.loops import Backoff, LoopStats, run_forever
from services.notify import domain, send_rules, store
from services.notify.deps import NotifyRuntime
from services.notify.metrics import record_sms
from services.notify.providers import SmsProvider
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)
SOURCE: Source = "notify"
ACTOR = Actor(kind="system", id="notify")


@dataclass(frozen=True)
class Attempt:
    """One provider call: `message` carries `merged` (itself first) with `text`."""

    message: domain.QueuedMessage
    provider_message_id: str | None = None
    error: str | None = None
    merged: tuple[domain.QueuedMessage, ...] = ()
    text: str = ""


def rules_of(settings: NotifySettings) -> send_rules.SendRules:
    return send_rules.SendRules(
        per_minute=settings.limit_per_minute, per_hour=settings.limit_per_hour, per_day=settings.limit_per_day,
        same_text=timedelta(hours=settings.same_text_hours), merge_window=timedelta(seconds=settings.merge_window_seconds),
        quiet_start=settings.quiet_start, quiet_end=settings.quiet_end, merged_max_chars=settings.merged_max_chars)


async def send_loop(runtime: NotifyRuntime, stats: LoopStats | None = None) -> None:
    """Runs for the life of the process: a failed round is logged and retried by the loop."""
    settings = runtime.settings
    policy = domain.SendPolicy(max_attempts=settings.send_max_attempts, first_delay=settings.send_backoff_first,
                               max_delay=settings.send_backoff_max)
    rules = rules_of(settings)

    async def send_round() -> bool:
        assert runtime.deps.provider is not None, "the provider is wired at start"
        claimed = await send_due(runtime.pool, runtime.clock, provider=runtime.deps.provider, policy=policy,
                                 rules=rules, batch=settings.send_batch, timeout=settings.send_timeout)
        return claimed >= settings.send_batch  # a full batch means more may be due right now

    await run_forever("sms-sender", send_round, interval=settings.send_interval, stats=stats,
                      backoff=Backoff(first=settings.send_interval, max=max(settings.send_interval, 30.0)),
                      service=runtime.name)


async def send_due(pool: asyncpg.Pool, clock: Clock, *, provider: SmsProvider, policy: domain.SendPolicy,
                   rules: send_rules.SendRules, batch: int, timeout: float) -> int:
    """One round: lock up to `batch` due messages, apply the sending rules per number (hold, merge), call the
    provider once per SMS, record every outcome. Returns how many were claimed."""
    async with pool.acquire() as conn, conn.transaction():
        now = clock.now()
        messages = await store.claim_due(conn, now=now, limit=batch, held_beyond=now + rules.longest_hold)
        calls: list[tuple[tuple[domain.QueuedMessage, ...], str]] = []
        for phone, group in _by_number(messages).items():
            if not await store.lock_number(conn, phone):
                continue  # another sender is texting this number; its messages stay queued for the next round
            group = _oldest_first([*group, *await store.claim_held(conn, phone, besides=[m.message_id for m in group])])
            history = await store.recent_calls(conn, phone, since=now - rules.lookback)
            by_id = {m.message_id: m for m in group}
            for step in send_rules.plan([_pending(m, now) for m in group], history, now=now, rules=rules):
                ids = [p.message_id for p in step.messages]
                if isinstance(step, send_rules.Wait):
                    await store.hold(conn, ids, until=step.until, reason=step.reason)
                    log.info("sms held", extra={"message_ids": [str(i) for i in ids], "reason": step.reason,
                                                "until": step.until.isoformat()})
                else:
                    calls.append((tuple(by_id[i] for i in ids), step.text))
        # Provider calls first, then the writes: the events table lock taken by append is held only briefly.
        attempts = [await _attempt(provider, merged, text, timeout=timeout) for merged, text in calls]
        given_up = [await _record(conn, attempt, provider=provider.name, policy=policy, clock=clock)
                    for attempt in attempts]
    for attempt, last in zip(attempts, given_up, strict=True):  # counted once committed
        for _ in attempt.merged:
            record_sms(provider.name, sent=attempt.error is None, given_up=last)
    return len(messages)


def _by_number(messages: list[domain.QueuedMessage]) -> dict[str, list[domain.QueuedMessage]]:
    grouped: dict[str, list[domain.QueuedMessage]] = {}
    for message in messages:
        grouped.setdefault(message.phone, []).append(message)
    return grouped


def _oldest_first(messages: list[domain.QueuedMessage]) -> list[domain.QueuedMessage]:
    return sorted(messages, key=lambda m: (m.created_at or datetime.min.replace(tzinfo=UTC), str(m.message_id)))


def _pending(message: domain.QueuedMessage, now: datetime) -> send_rules.Pending:
    served = message.waiting_for == "merge_window" and message.next_attempt_at is not None \
        and message.next_attempt_at <= now
    return send_rules.Pending(message_id=message.message_id, template_code=message.template_code, text=message.text,
                              created_at=message.created_at or now, merge_served=served)


async def _attempt(provider: SmsProvider, merged: tuple[domain.QueuedMessage, ...], text: str, *,
                   timeout: float) -> Attempt:
    # The first message's id is the call's idempotency key: a retry of the same SMS reuses it.
    message = merged[0]
    try:
        provider_id = await asyncio.wait_for(
            provider.send(message_id=message.message_id, phone=message.phone, text=text), timeout)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("sms attempt failed", extra={"message_id": str(message.message_id), "case_id": str(message.case_id),
                                                 "attempt": message.attempts + 1, "error_type": type(exc).__name__})
        return Attempt(message, error=repr(exc)[:500] or type(exc).__name__, merged=merged, text=text)
    return Attempt(message, provider_message_id=provider_id, merged=merged, text=text)


async def _record(conn: asyncpg.Connection, attempt: Attempt, *, provider: str, policy: domain.SendPolicy,
                  clock: Clock) -> bool:
    """Records the attempt for every message the SMS carried; True when they were given up."""
    now, carrier = clock.now(), attempt.message
    if attempt.error is not None:
        status: domain.MessageStatus = "queued"
        for message in attempt.merged:
            status, next_at = policy.after_failure(attempts=message.attempts + 1, now=now)
            await store.mark_attempt_failed(conn, message.message_id, status=status, error=attempt.error,
                                            next_attempt_at=next_at)
            if status == "failed":
                log.error("sms given up", extra={"message_id": str(message.message_id),
                                                 "case_id": str(message.case_id), "attempts": message.attempts + 1})
        return status == "failed"
    receipt = attempt.provider_message_id
    assert receipt is not None  # an attempt has either an error or the provider's receipt
    for message in attempt.merged:
        await store.mark_sent(conn, message.message_id, provider=provider, provider_message_id=receipt, at=now,
                              sent_in=carrier.message_id, sent_text=attempt.text)
        events = domain.decide_sent(message, provider=provider, provider_message_id=receipt)
        await append(conn, source=SOURCE, case_id=message.case_id, township_id=message.township_id,
                     origin=Origin(actor=ACTOR, causation_id=message.trigger_event_id), events=events, now=now)
    log.info("sms sent", extra={"message_id": str(carrier.message_id), "case_id": str(carrier.case_id),
                                "merged": len(attempt.merged)})
    return False
