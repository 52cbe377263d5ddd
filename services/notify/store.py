"""Notify's SQL: duty directory, case contacts, the message queue and the development SMS log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Envelope
from contracts.events import parse_event
from services.notify.directory import DUTY_CONTACTS
from services.notify.domain import Contact, DutyContact, MessageStatus, QueuedMessage


async def seed_directory(conn: asyncpg.Connection) -> None:
    """Upsert the demo duty phones, so a changed number takes effect on restart."""
    await conn.executemany(
        "INSERT INTO duty_contacts (township_id, department_code, name, phone) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (township_id, department_code) DO UPDATE SET name = excluded.name, phone = excluded.phone",
        [(d["township_id"], d["department_code"], d["name"], d["phone"]) for d in DUTY_CONTACTS],
    )


async def load_directory(conn: asyncpg.Connection, township_id: str) -> list[DutyContact]:
    rows = await conn.fetch("SELECT * FROM duty_contacts WHERE township_id = $1", township_id)
    return [DutyContact(**dict(r)) for r in rows]


async def save_contact(conn: asyncpg.Connection, contact: Contact, *, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO case_contacts (case_id, township_id, case_no, item_name, department_code, applicant_name, phone,"
        " received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id) DO NOTHING",
        contact.case_id, contact.township_id, contact.case_no, contact.item_name, contact.department_code,
        contact.applicant_name, contact.phone, at,
    )


async def load_contact(conn: asyncpg.Connection, case_id: UUID) -> Contact | None:
    row = await conn.fetchrow(
        "SELECT case_id, township_id, case_no, item_name, department_code, applicant_name, phone"
        " FROM case_contacts WHERE case_id = $1", case_id)
    return Contact(**dict(row)) if row else None


async def lock_case(conn: asyncpg.Connection, case_id: UUID) -> None:
    """Until the transaction ends, one handler at a time per case.

    Without it a completion could look for the contact, find none and park itself while the
    CaseSubmitted, in a concurrent transaction, looks for parked events before that park commits:
    the completion would stay parked for good.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", str(case_id))


async def park(conn: asyncpg.Connection, event: Envelope, *, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO parked_events (event_id, case_id, source, stream_version, body, parked_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        event.event_id, event.case_id, event.source, event.stream_version, event.model_dump_json(), at,
    )


async def release_parked(conn: asyncpg.Connection, case_id: UUID) -> list[Envelope]:
    """Take a case's parked events out, in their producer's order."""
    rows = await conn.fetch(
        "DELETE FROM parked_events WHERE case_id = $1 RETURNING source, stream_version, body", case_id)
    return [parse_event(r["body"]) for r in sorted(rows, key=lambda r: (r["source"], r["stream_version"]))]


async def count_parked(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM parked_events")


async def queue_message(conn: asyncpg.Connection, *, message_id: UUID, case_id: UUID, township_id: str,
                        trigger_event_id: UUID, recipient_kind: str, phone: str, template_code: str, text: str,
                        at: datetime) -> bool:
    """False when this event already queued a message for this kind of recipient."""
    return bool(await conn.fetchval(
        "INSERT INTO messages (message_id, case_id, township_id, trigger_event_id, recipient_kind, phone,"
        " template_code, text, status, next_attempt_at, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $9)"
        " ON CONFLICT (trigger_event_id, recipient_kind) DO NOTHING RETURNING true",
        message_id, case_id, township_id, trigger_event_id, recipient_kind, phone, template_code, text, at,
    ))


async def claim_due(conn: asyncpg.Connection, *, now: datetime, limit: int) -> list[QueuedMessage]:
    """Lock due messages for this transaction; other senders skip them instead of waiting.

    A message never tried is always due, so a clock moved back (demo, tests) cannot park it.
    """
    rows = await conn.fetch(
        "SELECT message_id, case_id, township_id, trigger_event_id, recipient_kind, phone, template_code, text,"
        " attempts FROM messages WHERE status = 'queued' AND (attempts = 0 OR next_attempt_at <= $1)"
        " ORDER BY next_attempt_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit,
    )
    return [QueuedMessage(**dict(r)) for r in rows]


async def mark_sent(conn: asyncpg.Connection, message_id: UUID, *, provider: str, provider_message_id: str,
                    at: datetime) -> None:
    await conn.execute(
        "UPDATE messages SET status = 'sent', attempts = attempts + 1, provider = $2, provider_message_id = $3,"
        " sent_at = $4, last_error = NULL WHERE message_id = $1",
        message_id, provider, provider_message_id, at,
    )


async def mark_attempt_failed(conn: asyncpg.Connection, message_id: UUID, *, status: MessageStatus, error: str,
                              next_attempt_at: datetime) -> None:
    await conn.execute(
        "UPDATE messages SET status = $2, attempts = attempts + 1, last_error = $3, next_attempt_at = $4"
        " WHERE message_id = $1",
        message_id, status, error, next_attempt_at,
    )


async def list_messages(conn: asyncpg.Connection, case_id: UUID) -> list[dict]:
    rows = await conn.fetch(
        "SELECT message_id, township_id, recipient_kind, phone, template_code, text, status, attempts, created_at,"
        " sent_at FROM messages WHERE case_id = $1 ORDER BY created_at, recipient_kind", case_id)
    return [dict(r) for r in rows]


async def record_dev_sms(conn: asyncpg.Connection, *, message_id: UUID, phone: str, text: str) -> None:
    await conn.execute(
        "INSERT INTO dev_sms_log (message_id, phone, text) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING",
        message_id, phone, text,
    )
