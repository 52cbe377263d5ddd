"""SQL of what providers make of messages: template parameters, unconfirmed sends, failure classes, receipts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.notify.domain import QueuedMessage
from services.notify.providers.config import param_text


@dataclass(frozen=True)
class AttemptState:
    params: dict[str, str]
    unconfirmed_provider: str | None
    unconfirmed_since: datetime | None


async def save_params(conn: asyncpg.Connection, message_id: UUID, params: Mapping[str, object]) -> None:
    await conn.execute("INSERT INTO message_params (message_id, params) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                       message_id,
                       json.dumps({k: param_text(v) for k, v in params.items()}, ensure_ascii=False))


async def attempt_states(conn: asyncpg.Connection, message_ids: list[UUID]) -> dict[UUID, AttemptState]:
    rows = await conn.fetch("SELECT m.message_id, p.params, m.unconfirmed_provider, m.unconfirmed_since"
                            " FROM messages m LEFT JOIN message_params p USING (message_id)"
                            " WHERE m.message_id = ANY($1)", message_ids)
    return {r["message_id"]: AttemptState(json.loads(r["params"]) if r["params"] else {}, r["unconfirmed_provider"],
                                          r["unconfirmed_since"]) for r in rows}


async def mark_unconfirmed(conn: asyncpg.Connection, message_id: UUID, *, provider: str, error: str, at: datetime,
                           next_attempt_at: datetime) -> None:
    """The provider may have taken it: next time, ask it before sending again (the first such time is kept)."""
    await conn.execute(
        "UPDATE messages SET attempts = attempts + 1, last_error = $3, next_attempt_at = $5,"
        " unconfirmed_provider = $2, unconfirmed_since = coalesce(unconfirmed_since, $4) WHERE message_id = $1",
        message_id, provider, error, at, next_attempt_at)


async def clear_unconfirmed(conn: asyncpg.Connection, message_id: UUID) -> None:
    await conn.execute("UPDATE messages SET unconfirmed_provider = NULL, unconfirmed_since = NULL"
                       " WHERE message_id = $1", message_id)


async def clear_failures(conn: asyncpg.Connection, message_id: UUID) -> None:
    """The provider took the message: what earlier attempts left (like `last_error`) is gone."""
    await conn.execute("UPDATE messages SET unconfirmed_provider = NULL, unconfirmed_since = NULL, failure_kind = NULL,"
                       " provider_code = NULL WHERE message_id = $1", message_id)


async def record_failure(conn: asyncpg.Connection, message_id: UUID, *, kind: str, code: str,
                         provider: str | None) -> None:
    await conn.execute("UPDATE messages SET failure_kind = $2, provider_code = $3, provider = coalesce($4, provider)"
                       " WHERE message_id = $1", message_id, kind, code, provider)


async def message_for_receipt(conn: asyncpg.Connection, *, provider: str, message_id: UUID | None,
                              provider_message_id: str | None) -> tuple[QueuedMessage, str, str | None] | None:
    """The message a receipt is about, by our id (OutId, SessionContext) or the provider's, locked; with its
    status and the provider that sent it."""
    row = await conn.fetchrow(
        "SELECT message_id, case_id, township_id, trigger_event_id, recipient_kind, phone, template_code, text,"
        " attempts, status, provider FROM messages WHERE message_id = $1"
        " OR (provider = $2 AND provider_message_id = $3) ORDER BY message_id = $1 DESC LIMIT 1 FOR UPDATE",
        message_id, provider, provider_message_id)
    if row is None:
        return None
    found = dict(row)
    status, sent_by = found.pop("status"), found.pop("provider")
    return QueuedMessage(**found), status, sent_by


async def mark_delivered(conn: asyncpg.Connection, message_id: UUID, *, code: str, at: datetime) -> None:
    await conn.execute("UPDATE messages SET status = 'delivered', provider_code = $2, delivered_at = $3,"
                       " unconfirmed_provider = NULL WHERE message_id = $1", message_id, code, at)


async def mark_undelivered(conn: asyncpg.Connection, message_id: UUID, *, kind: str, code: str, at: datetime) -> None:
    await conn.execute("UPDATE messages SET status = 'failed', failure_kind = $2, provider_code = $3,"
                       " delivered_at = $4, unconfirmed_provider = NULL WHERE message_id = $1",
                       message_id, kind, code, at)


async def outcome_of(conn: asyncpg.Connection, message_id: UUID) -> dict | None:
    row = await conn.fetchrow("SELECT status, provider, provider_message_id, failure_kind, provider_code, delivered_at,"
                              " attempts, last_error FROM messages WHERE message_id = $1", message_id)
    return dict(row) if row else None
