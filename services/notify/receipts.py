"""Delivery receipts (状态报告) the providers push: which message, delivered or not, the carrier's code.

Alibaba Cloud (SmsReport over HTTP): a JSON array of {"out_id", "biz_id", "success", "err_code", ...};
Tencent Cloud (短信下发状态回调): a JSON array of {"sid", "report_status": "SUCCESS"|"FAIL", "errmsg", "ext", ...}.
A message is found by our id (OutId, SessionContext) first, then by the provider's id (BizId, SerialNo).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, Source
from services.kit.eventstore import Origin, append
from services.notify import domain, outcome_store, outcomes, store
from services.notify.providers.classify import classify

log = logging.getLogger(__name__)
SOURCE: Source = "notify"
ACTOR = Actor(kind="system", id="notify")
ReceiptProvider = Literal["alibaba", "tencent"]


@dataclass(frozen=True)
class Receipt:
    message_id: UUID | None
    provider_message_id: str | None
    delivered: bool
    code: str


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def parse(provider: ReceiptProvider, item: dict[str, Any]) -> Receipt | None:
    """One pushed report, or None when it names no message at all."""
    if provider == "alibaba":
        receipt = Receipt(_uuid(item.get("out_id")), _text(item.get("biz_id")), item.get("success") is True,
                          _text(item.get("err_code")) or "")
    else:
        ext = item.get("ext")
        context = ext.get("SessionContext") if isinstance(ext, dict) else (ext or item.get("session_context"))
        receipt = Receipt(_uuid(context), _text(item.get("sid")), item.get("report_status") == "SUCCESS",
                          _text(item.get("errmsg")) or "")
    return receipt if receipt.message_id or receipt.provider_message_id else None


def _text(value: object) -> str | None:
    return str(value)[:200] if value not in (None, "") else None


async def apply(conn: asyncpg.Connection, provider: ReceiptProvider, receipt: Receipt, *, now: datetime) -> str | None:
    """Marks the message delivered or failed and announces it; the reason it was ignored otherwise."""
    found = await outcome_store.message_for_receipt(conn, provider=provider, message_id=receipt.message_id,
                                                    provider_message_id=receipt.provider_message_id)
    if found is None:
        return "unknown message"
    message, status, sent_by = found
    outcome = await outcome_store.outcome_of(conn, message.message_id)
    if outcome is not None and outcome["delivered_at"] is not None:
        return "already reported"
    origin = Origin(actor=ACTOR, causation_id=message.trigger_event_id)
    if status == "queued":  # a send that timed out: the receipt proves the provider took it
        provider_message_id = receipt.provider_message_id or f"out-{message.message_id}"
        await store.mark_sent(conn, message.message_id, provider=provider, provider_message_id=provider_message_id,
                              at=now)
        await append(conn, source=SOURCE, case_id=message.case_id, township_id=message.township_id, origin=origin,
                     events=domain.decide_sent(message, provider=provider, provider_message_id=provider_message_id),
                     now=now)
    if receipt.delivered:
        await outcome_store.mark_delivered(conn, message.message_id, code=receipt.code or "DELIVERED", at=now)
        events = outcomes.decide_delivered(message, provider=provider, code=receipt.code or "DELIVERED")
    else:
        # The carrier gave up after the provider took it: not resent, a second try could reach the phone twice.
        kind = classify(provider, receipt.code)
        await outcome_store.mark_undelivered(conn, message.message_id, kind=kind, code=receipt.code, at=now)
        events = outcomes.decide_failed(message, provider=provider, failure=kind, code=receipt.code)
    await append(conn, source=SOURCE, case_id=message.case_id, township_id=message.township_id, origin=origin,
                 events=events, now=now)
    log.info("sms receipt", extra={"message_id": str(message.message_id), "provider": provider,
                                   "delivered": receipt.delivered, "code": receipt.code, "sent_by": sent_by})
    return None
