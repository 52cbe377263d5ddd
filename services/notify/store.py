"""Notify's SQL: duty directory, cases and their applicants' numbers, the message queue and the development SMS log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.contacts import CaseContact
from contracts.envelope import Envelope
from contracts.events import parse_event
from services.notify.directory import DUTY_CONTACTS
from services.notify.domain import Contact, DutyContact, KnownCase, MessageStatus, QueuedMessage


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


async def save_case(conn: asyncpg.Connection, case: KnownCase, *, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO case_contacts (case_id, township_id, case_no, item_name, department_code, applicant_name,"
        " received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_id) DO NOTHING",
        case.case_id, case.township_id, case.case_no, case.item_name, case.department_code, case.applicant_name, at,
    )


async def save_phone(conn: asyncpg.Connection, contact: CaseContact) -> None:
    """The newest number of a case; never over an erasure, never an older version over a newer."""
    await conn.execute(
        "INSERT INTO resident_phones (case_id, phone, version) VALUES ($1, $2, $3) ON CONFLICT (case_id) DO UPDATE"
        " SET phone = excluded.phone, version = excluded.version"
        " WHERE resident_phones.erased_at IS NULL AND resident_phones.version < excluded.version",
        contact.case_id, contact.applicant_phone, contact.version,
    )


async def erase_phone(conn: asyncpg.Connection, case_id: UUID, *, at: datetime) -> str | None:
    """Forget the case's number; returns the number that was kept, if any, so copies can be masked."""
    previous = await conn.fetchval("SELECT phone FROM resident_phones WHERE case_id = $1 FOR UPDATE", case_id)
    await conn.execute(
        "INSERT INTO resident_phones (case_id, phone, version, erased_at) VALUES ($1, NULL, 0, $2)"
        " ON CONFLICT (case_id) DO UPDATE SET phone = NULL, erased_at = coalesce(resident_phones.erased_at, $2)",
        case_id, at)
    return previous


async def mask_resident_messages(conn: asyncpg.Connection, case_id: UUID, *, masked: str) -> None:
    """Copies of the number in sent or queued SMS become the masked form; unsent ones are given up."""
    await conn.execute(
        "UPDATE dev_sms_log SET phone = $2 WHERE message_id IN"
        " (SELECT message_id FROM messages WHERE case_id = $1 AND recipient_kind = 'resident')", case_id, masked)
    await conn.execute(
        "UPDATE messages SET phone = $2,"
        " status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END,"
        " last_error = CASE WHEN status = 'queued' THEN 'contact erased' ELSE last_error END"
        " WHERE case_id = $1 AND recipient_kind = 'resident'", case_id, masked)


async def load_contact(conn: asyncpg.Connection, case_id: UUID) -> Contact | None:
    """The case and how to reach its applicant, once both have arrived (phone None once erased)."""
    row = await conn.fetchrow(
        "SELECT c.case_id, c.township_id, c.case_no, c.item_name, c.department_code, c.applicant_name, p.phone"
        " FROM case_contacts c JOIN resident_phones p USING (case_id) WHERE c.case_id = $1", case_id)
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


def producer_order(event: Envelope) -> tuple[str, int]:
    return event.source, event.stream_version


async def release_parked(conn: asyncpg.Connection, case_id: UUID) -> list[Envelope]:
    """Take a case's parked events out, in their producer's order."""
    rows = await conn.fetch("DELETE FROM parked_events WHERE case_id = $1 RETURNING body", case_id)
    return sorted((parse_event(r["body"]) for r in rows), key=producer_order)


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
