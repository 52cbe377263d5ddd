"""The background sender: queued messages go to the provider, then `sent` + NotificationSent in one transaction.

Between the two, the sending rules (send_rules.py) hold a message (quiet hours, merge window,
per-number limits) or merge several to one number into one SMS; each merged message is `sent` with
the id of the message whose call carried it (`sent_in`) and announces its own NotificationSent.

At-least-once towards the provider: a crash after the provider accepted a message and before
the commit sends it again, with the same message id as the provider's idempotency key.

Failures come in GOV.UK Notify's classes (services/notify/providers/classify.py): a permanent one
fails the message at once, a temporary or technical one is retried with backoff until the attempts
run out (a technical one also fails over to the secondary provider), and then NotificationFailed.
A send whose answer never came (a timeout) may have gone out, and the real providers' send APIs are
not idempotent: the message is marked unconfirmed at that provider and is only sent again once that
provider, asked by our id (OutId, SessionContext), says it does not have it; if it has it, the
message is sent. A provider that cannot tell keeps it waiting for its receipt.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from contracts.envelope import Actor, Source
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.kit.loops import Backoff, LoopStats, run_forever
from services.notify import domain, outcome_store, outcomes, send_rules, store
from services.notify.deps import NotifyRuntime
from services.notify.metrics import record_sms
from services.notify.outcome_store import AttemptState
from services.notify.providers import SmsProvider
from services.notify.providers.classify import LookupUnsure, OutcomeUnknown, ProviderError
from services.notify.providers.failover import provider_named, sent_by
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)
SOURCE: Source = "notify"
ACTOR = Actor(kind="system", id="notify")


# A merged SMS goes out through one template with the whole text as its only variable; county IT
# registers it at the provider like the others (README, "SMS providers").
MERGED_TEMPLATE = "merged"


@dataclass(frozen=True)
class Attempt:
    """One provider call: `message` (the carrier, whose id keys the call) carries `merged` (itself first)."""

    message: domain.QueuedMessage
    provider_message_id: str | None = None
    error: str | None = None
    sent_by: str | None = None
    failure: ProviderError | None = None
    unknown_at: str | None = None  # the provider that may have the message
    cleared: bool = False  # an unconfirmed send the provider said it does not have
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
        calls = await _plan_calls(conn, messages, rules=rules, now=now)
        states = await outcome_store.attempt_states(conn, [merged[0].message_id for merged, _ in calls])
        # Provider calls first, then the writes: the events table lock taken by append is held only briefly.
        attempts = [await _attempt(provider, merged, text, states.get(merged[0].message_id), timeout=timeout)
                    for merged, text in calls]
        given_up = [await _record(conn, attempt, provider=provider.name, policy=policy, clock=clock)
                    for attempt in attempts]
    for attempt, last in zip(attempts, given_up, strict=True):  # counted once committed
        for _ in attempt.merged:
            record_sms(attempt.sent_by or provider.name, sent=attempt.error is None, given_up=last)
    return len(messages)


async def _plan_calls(conn: asyncpg.Connection, messages: list[domain.QueuedMessage], *, rules: send_rules.SendRules,
                      now: datetime) -> list[tuple[tuple[domain.QueuedMessage, ...], str]]:
    """Per number: hold what must wait, and the SMS to send now, each with the messages it carries."""
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
    return calls


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


async def _attempt(provider: SmsProvider, merged: tuple[domain.QueuedMessage, ...], text: str,
                   state: AttemptState | None, *, timeout: float) -> Attempt:
    # The first message's id is the call's idempotency key (OutId, SessionContext): a retry reuses it.
    message = merged[0]
    attempt = functools.partial(Attempt, message, merged=merged, text=text)
    state = state or AttemptState({}, None, None)
    template, params = (message.template_code, state.params) if len(merged) == 1 else (MERGED_TEMPLATE, {"text": text})
    cleared = False
    if state.unconfirmed_provider is not None:
        try:
            found = await asyncio.wait_for(_lookup(provider, state, message), timeout)
        except (LookupUnsure, TimeoutError) as exc:
            return attempt(error=f"outcome still unknown: {exc}"[:500], unknown_at=state.unconfirmed_provider)
        if found is not None:
            return attempt(provider_message_id=found, sent_by=state.unconfirmed_provider)
        cleared = True
    try:
        provider_id = await asyncio.wait_for(
            provider.send(message_id=message.message_id, phone=message.phone, text=text, template_code=template,
                          params=params), timeout)
    except asyncio.CancelledError:
        raise
    except (OutcomeUnknown, TimeoutError) as exc:
        at = exc.provider if isinstance(exc, OutcomeUnknown) else provider.name
        _warn("sms outcome unknown; not resent before the provider is asked", message, exc)
        return attempt(error=f"outcome unknown: {exc!r}"[:500], unknown_at=at, cleared=cleared)
    except ProviderError as exc:
        _warn("sms attempt failed", message, exc)
        return attempt(error=str(exc), failure=exc, sent_by=exc.provider, cleared=cleared)
    except Exception as exc:
        _warn("sms attempt failed", message, exc)
        return attempt(error=repr(exc)[:500] or type(exc).__name__, cleared=cleared)
    return attempt(provider_message_id=provider_id, sent_by=sent_by(provider, provider_id), cleared=cleared)


async def _lookup(provider: SmsProvider, state: AttemptState, message: domain.QueuedMessage) -> str | None:
    assert state.unconfirmed_provider is not None and state.unconfirmed_since is not None
    finder = getattr(provider_named(provider, state.unconfirmed_provider), "find", None)
    if finder is None:
        raise LookupUnsure(f"{state.unconfirmed_provider} cannot be asked; waiting for its receipt")
    found: str | None = await finder(message_id=message.message_id, phone=message.phone,
                                     since=state.unconfirmed_since)
    return found


def _warn(what: str, message: domain.QueuedMessage, exc: BaseException) -> None:
    log.warning(what, extra={"message_id": str(message.message_id), "case_id": str(message.case_id),
                             "attempt": message.attempts + 1, "error_type": type(exc).__name__,
                             "code": getattr(exc, "code", None)})


async def _record(conn: asyncpg.Connection, attempt: Attempt, *, provider: str, policy: domain.SendPolicy,
                  clock: Clock) -> bool:
    """Records the attempt for every message the SMS carried; True when they were given up."""
    now, carrier = clock.now(), attempt.message
    if attempt.cleared:
        await outcome_store.clear_unconfirmed(conn, carrier.message_id)
    if attempt.error is not None:
        given_up = [await _record_failure(conn, attempt, message, policy=policy, now=now) for message in attempt.merged]
        return any(given_up)
    receipt = attempt.provider_message_id
    assert receipt is not None  # an attempt has either an error or the provider's receipt
    used = attempt.sent_by or provider
    for message in attempt.merged:
        await store.mark_sent(conn, message.message_id, provider=used, provider_message_id=receipt, at=now,
                              sent_in=carrier.message_id, sent_text=attempt.text)
        await outcome_store.clear_failures(conn, message.message_id)
        events = domain.decide_sent(message, provider=used, provider_message_id=receipt)
        await append(conn, source=SOURCE, case_id=message.case_id, township_id=message.township_id,
                     origin=Origin(actor=ACTOR, causation_id=message.trigger_event_id), events=events, now=now)
    log.info("sms sent", extra={"message_id": str(carrier.message_id), "case_id": str(carrier.case_id),
                                "provider": used, "merged": len(attempt.merged)})
    return False


async def _record_failure(conn: asyncpg.Connection, attempt: Attempt, message: domain.QueuedMessage, *,
                          policy: domain.SendPolicy, now: datetime) -> bool:
    failure = attempt.failure
    assert attempt.error is not None
    status, next_at = policy.after_failure(attempts=message.attempts + 1, now=now)
    if failure is not None and failure.kind == "permanent":
        status, next_at = "failed", now  # never sendable: not retried
    if attempt.unknown_at is not None and status == "queued":
        await outcome_store.mark_unconfirmed(conn, message.message_id, provider=attempt.unknown_at, error=attempt.error,
                                             at=now, next_attempt_at=next_at)
        return False
    await store.mark_attempt_failed(conn, message.message_id, status=status, error=attempt.error,
                                    next_attempt_at=next_at)
    kind, code = (failure.kind, failure.code) if failure else \
        ("technical", "OUTCOME_UNKNOWN" if attempt.unknown_at else "PROVIDER_ERROR")
    provider = failure.provider if failure else attempt.unknown_at
    await outcome_store.record_failure(conn, message.message_id, kind=kind, code=code, provider=provider)
    if status != "failed":
        return False
    log.error("sms given up", extra={"message_id": str(message.message_id), "case_id": str(message.case_id),
                                     "attempts": message.attempts + 1, "failure": kind, "code": code})
    await append(conn, source=SOURCE, case_id=message.case_id, township_id=message.township_id,
                 origin=Origin(actor=ACTOR, causation_id=message.trigger_event_id),
                 events=outcomes.decide_failed(message, provider=provider, failure=kind, code=code), now=now)
    return True
