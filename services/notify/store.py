"""Notify's SQL: cases and their applicants' numbers, staff numbers, the message queue, unreachable staff and the
development SMS log."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from contracts.contacts import CaseContact, StaffContact
from contracts.envelope import Envelope
from contracts.events import parse_event
from services.notify.domain import Contact, KnownCase, MessageStatus, QueuedMessage
from services.notify.recipients import StaffMember
from services.notify.send_rules import PastCall, WaitReason


async def save_case(conn: asyncpg.Connection, case: KnownCase, *, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO case_contacts (case_id, township_id, case_no, item_name, department_code, applicant_name,"
        " received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_id) DO NOTHING",
        case.case_id, case.township_id, case.case_no, case.item_name, case.department_code, case.applicant_name, at,
    )


async def save_phone(conn: asyncpg.Connection, contact: CaseContact) -> None:
    """The newest number of a case; never over an erasure, never an older version over a newer."""
    await conn.execute(
        "INSERT INTO resident_phones (case_id, phone, agent_id, version) VALUES ($1, $2, $4, $3)"
        " ON CONFLICT (case_id) DO UPDATE SET phone = excluded.phone, agent_id = excluded.agent_id,"
        " version = excluded.version"
        " WHERE resident_phones.erased_at IS NULL AND resident_phones.version < excluded.version",
        contact.case_id, contact.applicant_phone, contact.version, contact.agent_id,
    )


async def erase_phone(conn: asyncpg.Connection, case_id: UUID, *, at: datetime) -> str | None:
    """Forget the case's number; returns the number that was kept, if any, so copies can be masked."""
    previous = await conn.fetchval("SELECT phone FROM resident_phones WHERE case_id = $1 FOR UPDATE", case_id)
    await conn.execute(
        "INSERT INTO resident_phones (case_id, phone, version, erased_at) VALUES ($1, NULL, 0, $2)"
        " ON CONFLICT (case_id) DO UPDATE SET phone = NULL, agent_id = NULL,"
        " erased_at = coalesce(resident_phones.erased_at, $2)",
        case_id, at)
    return previous


async def mask_resident_messages(conn: asyncpg.Connection, case_id: UUID, *, masked: str) -> None:
    """Copies of the number in sent or queued SMS become the masked form; unsent ones are given up."""
    await _mask_messages(conn, "case_id = $1 AND recipient_kind = 'resident'", case_id, masked=masked,
                         reason="contact erased")


async def mask_staff_messages(conn: asyncpg.Connection, staff_id: str, *, masked: str) -> None:
    """The same for a staff member who left."""
    await _mask_messages(conn, "recipient_id = $1 AND recipient_kind = 'staff'", staff_id, masked=masked,
                         reason="staff left")


async def _mask_messages(conn: asyncpg.Connection, where: str, key: object, *, masked: str, reason: str) -> None:
    # Messages first: a sender holding one of them (mid-call to the provider) is waited for, so the
    # provider's copy it wrote meanwhile exists when the second statement masks it.
    await conn.execute(
        "UPDATE messages SET phone = $2,"
        " status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END,"
        " last_error = CASE WHEN status = 'queued' THEN $3 ELSE last_error END"
        f" WHERE {where}", key, masked, reason)
    await conn.execute(f"UPDATE dev_sms_log SET phone = $2 WHERE message_id IN (SELECT message_id FROM messages"
                       f" WHERE {where})", key, masked)


async def save_staff_contact(conn: asyncpg.Connection, contact: StaffContact) -> None:
    """The newest record of a staff member; an older version, replayed, never goes over a newer one or
    over the tombstone that followed it."""
    await conn.execute(
        "INSERT INTO staff_contacts (staff_id, township_id, department_code, role, name, phone, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (staff_id) DO UPDATE"
        " SET township_id = excluded.township_id, department_code = excluded.department_code, role = excluded.role,"
        " name = excluded.name, phone = excluded.phone, version = excluded.version, left_at = NULL"
        " WHERE staff_contacts.version < excluded.version",
        contact.staff_id, contact.township_id, contact.department_code, contact.role, contact.name, contact.phone,
        contact.version)


async def staff_left(conn: asyncpg.Connection, staff_id: str, *, at: datetime) -> str | None:
    """Forget a staff member's number (a tombstone); returns the number that was kept, if any."""
    return await conn.fetchval(
        "WITH kept AS (SELECT staff_id, phone FROM staff_contacts WHERE staff_id = $1 FOR UPDATE)"
        " UPDATE staff_contacts s SET phone = NULL, left_at = coalesce(s.left_at, $2) FROM kept"
        " WHERE s.staff_id = kept.staff_id RETURNING kept.phone", staff_id, at)


async def load_staff(conn: asyncpg.Connection, staff_id: str) -> StaffMember | None:
    row = await conn.fetchrow("SELECT staff_id, township_id, department_code, role, name, phone FROM staff_contacts"
                              " WHERE staff_id = $1", staff_id)
    return StaffMember(**dict(row)) if row else None


async def load_centre_heads(conn: asyncpg.Connection, township_id: str) -> tuple[StaffMember, ...]:
    """The township's centre heads who can be reached, in a stable order."""
    rows = await conn.fetch(
        "SELECT staff_id, township_id, department_code, role, name, phone FROM staff_contacts"
        " WHERE township_id = $1 AND role = 'centre_head' AND phone IS NOT NULL ORDER BY staff_id", township_id)
    return tuple(StaffMember(**dict(r)) for r in rows)


async def record_unreachable(conn: asyncpg.Connection, *, trigger_event_id: UUID, recipient_id: str, case_id: UUID,
                             township_id: str, template_code: str, at: datetime) -> bool:
    """False when this event already recorded this recipient as unreachable."""
    return bool(await conn.fetchval(
        "INSERT INTO unreachable_notices (trigger_event_id, recipient_id, case_id, township_id, template_code,"
        " recorded_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        trigger_event_id, recipient_id, case_id, township_id, template_code, at))


async def load_contact(conn: asyncpg.Connection, case_id: UUID) -> Contact | None:
    """The case and how to reach its applicant, once both have arrived (phone None once erased, or when the
    village agent named is to pass messages on: then the agent's number, if notify knows it)."""
    row = await conn.fetchrow(
        "SELECT c.case_id, c.township_id, c.case_no, c.item_name, c.department_code, c.applicant_name, p.phone,"
        " p.agent_id, a.phone AS agent_phone"
        " FROM case_contacts c JOIN resident_phones p USING (case_id)"
        " LEFT JOIN staff_contacts a ON a.staff_id = p.agent_id AND a.role = 'village_agent'"
        " WHERE c.case_id = $1", case_id)
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
                        trigger_event_id: UUID, recipient_kind: str, recipient_id: str, phone: str,
                        template_code: str, text: str, at: datetime, segments: int = 1, template_version: str = "",
                        failed: str | None = None) -> bool:
    """False when this event already queued this template for this recipient. With `failed` (why it cannot be
    sent, e.g. a field missing for its template) the message is kept as failed instead of queued."""
    return bool(await conn.fetchval(
        "INSERT INTO messages (message_id, case_id, township_id, trigger_event_id, recipient_kind, recipient_id,"
        " phone, template_code, text, status, next_attempt_at, created_at, segments, template_version, last_error)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $13::text IS NULL THEN 'queued' ELSE 'failed' END,"
        " $10, $10, $11, $12, $13)"
        " ON CONFLICT (trigger_event_id, recipient_id, template_code) DO NOTHING RETURNING true",
        message_id, case_id, township_id, trigger_event_id, recipient_kind, recipient_id, phone, template_code, text,
        at, segments, template_version, failed,
    ))


# What the sender reads of a queued message (domain.QueuedMessage).
_QUEUED = ("message_id, case_id, township_id, trigger_event_id, recipient_kind, phone, template_code, text, attempts,"
           " created_at, waiting_for, next_attempt_at")


async def claim_due(conn: asyncpg.Connection, *, now: datetime, limit: int,
                    held_beyond: datetime | None = None) -> list[QueuedMessage]:
    """Lock due messages for this transaction; other senders skip them instead of waiting.

    A message never tried is always due unless a sending rule holds it, and even then once it is held
    beyond `held_beyond` (further than any rule holds): a clock moved back (demo, tests) cannot park
    it. Messages to one number come out together (merged by the sender).
    """
    rows = await conn.fetch(
        f"SELECT {_QUEUED} FROM messages WHERE status = 'queued' AND (next_attempt_at <= $1"
        " OR (attempts = 0 AND (waiting_for IS NULL OR next_attempt_at > $3)))"
        " ORDER BY next_attempt_at, phone, created_at LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit,
        held_beyond or datetime.max.replace(tzinfo=UTC),
    )
    return [QueuedMessage(**dict(r)) for r in rows]


async def mark_sent(conn: asyncpg.Connection, message_id: UUID, *, provider: str, provider_message_id: str,
                    at: datetime, sent_in: UUID | None = None, sent_text: str | None = None) -> None:
    """`sent_in`: the message whose provider call carried this one (itself by default), and that call's text."""
    await conn.execute(
        "UPDATE messages SET status = 'sent', attempts = attempts + 1, provider = $2, provider_message_id = $3,"
        " sent_at = $4, last_error = NULL, waiting_for = NULL, sent_in = coalesce($5, message_id),"
        " sent_text = coalesce($6, text) WHERE message_id = $1",
        message_id, provider, provider_message_id, at, sent_in, sent_text,
    )


async def mark_attempt_failed(conn: asyncpg.Connection, message_id: UUID, *, status: MessageStatus, error: str,
                              next_attempt_at: datetime) -> None:
    await conn.execute(
        "UPDATE messages SET status = $2, attempts = attempts + 1, last_error = $3, next_attempt_at = $4,"
        " waiting_for = NULL WHERE message_id = $1",
        message_id, status, error, next_attempt_at,
    )


async def claim_held(conn: asyncpg.Connection, phone: str, *, besides: list[UUID]) -> list[QueuedMessage]:
    """The number's other messages a sending rule holds, locked: they join what is due for it (the merge
    window counts from the oldest of them; all go out in one SMS)."""
    rows = await conn.fetch(
        f"SELECT {_QUEUED} FROM messages WHERE phone = $1 AND status = 'queued' AND waiting_for IS NOT NULL"
        " AND NOT message_id = ANY($2) ORDER BY created_at FOR UPDATE SKIP LOCKED", phone, besides)
    return [QueuedMessage(**dict(r)) for r in rows]


async def lock_number(conn: asyncpg.Connection, phone: str) -> bool:
    """One sender at a time per number until the transaction ends, so its limits hold; False: another has it."""
    return await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtextextended('sms:' || $1, 0))", phone)


async def recent_calls(conn: asyncpg.Connection, phone: str, *, since: datetime) -> list[PastCall]:
    """Provider calls made to the number since then (a merged SMS is one), what the limits count."""
    rows = await conn.fetch("SELECT sent_at, sent_text FROM messages WHERE phone = $1 AND sent_in = message_id"
                            " AND sent_at > $2", phone, since)
    return [PastCall(at=r["sent_at"], text=r["sent_text"]) for r in rows]


async def hold(conn: asyncpg.Connection, message_ids: list[UUID], *, until: datetime, reason: WaitReason) -> None:
    """A sending rule holds the messages until then; no attempt is counted."""
    await conn.execute("UPDATE messages SET next_attempt_at = $2, waiting_for = $3 WHERE message_id = ANY($1)",
                       message_ids, until, reason)


async def list_messages(conn: asyncpg.Connection, case_id: UUID) -> list[dict]:
    rows = await conn.fetch(
        "SELECT message_id, township_id, recipient_kind, phone, template_code, text, status, attempts, created_at,"
        " sent_at, waiting_for, next_attempt_at, sent_in, segments, template_version, last_error, provider,"
        " failure_kind, provider_code, delivered_at FROM messages"
        " WHERE case_id = $1 ORDER BY created_at, queued_seq", case_id)
    return [dict(r) for r in rows]


async def record_dev_sms(conn: asyncpg.Connection, *, message_id: UUID, phone: str, text: str) -> None:
    await conn.execute(
        "INSERT INTO dev_sms_log (message_id, phone, text) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING",
        message_id, phone, text,
    )
