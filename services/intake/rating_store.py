"""Intake's SQL for ratings, rating links and the resident's status page."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.events import RatingChannel
from services.intake.case_status import OwedMaterial, StatusFacts
from services.intake.rating_links import LinkClaims
from services.intake.ratings import RatedCase


async def lock_rated_case(conn: asyncpg.Connection, case_id: UUID) -> tuple[RatedCase, str] | None:
    """The case's rating state and township, locked for this transaction."""
    row = await conn.fetchrow("SELECT status, rated_at, township_id FROM cases WHERE case_id = $1 FOR UPDATE", case_id)
    if row is None:
        return None
    return RatedCase(status=row["status"], rated=row["rated_at"] is not None), row["township_id"]


async def mark_rated(conn: asyncpg.Connection, case_id: UUID, *, score: int, channel: RatingChannel,
                     at: datetime, event_id: UUID) -> None:
    await conn.execute("UPDATE cases SET rating_score = $2, rating_channel = $3, rated_at = $4, rating_event_id = $5"
                       " WHERE case_id = $1", case_id, score, channel, at, event_id)


async def case_of_applicant(conn: asyncpg.Connection, case_no: str, phone: str) -> UUID | None:
    """The case with this number whose applicant's number (E.164) is this one; None for an unknown case,
    another number or an erased one alike."""
    return await conn.fetchval(
        "SELECT c.case_id FROM cases c JOIN case_contacts ct USING (case_id) WHERE c.case_no = $1 AND ct.phone = $2",
        case_no, phone)


async def status_facts(conn: asyncpg.Connection, case_id: UUID) -> StatusFacts:
    row = await conn.fetchrow(
        "SELECT c.case_no, c.item_name, t.name AS centre_name, c.status, c.department_name, c.promised_deadline,"
        " c.overdue, c.result, c.completed_at, c.rated_at IS NOT NULL AS rated, c.deadline_provisional,"
        " c.clock_paused_reason, c.clock_paused_note, c.rating_score, c.rated_at,"
        " c.rate_again_asked_at IS NOT NULL AS rate_again_asked, c.second_rating_score, c.rated_again_at"
        " FROM cases c JOIN townships t USING (township_id) WHERE c.case_id = $1", case_id)
    owed = await conn.fetch(
        "SELECT name, problem, note, due, due_provisional FROM owed_materials WHERE case_id = $1 AND supplied_at IS NULL"
        " ORDER BY essential DESC, code", case_id)
    return StatusFacts(**dict(row), owed=tuple(OwedMaterial(**dict(m)) for m in owed))


async def save_link(conn: asyncpg.Connection, case_id: UUID, claims: LinkClaims, *, token_hash: str, issued_by: str,
                    at: datetime, replace: bool, rating_round: int = 1) -> bool:
    """Stores a case's link; with `replace` a new one takes the place of any earlier (whose token then
    stops working), else an existing link stays. True when this one was stored."""
    conflict = ("DO UPDATE SET link_id = excluded.link_id, token_hash = excluded.token_hash,"
                " expires_at = excluded.expires_at, issued_at = excluded.issued_at, issued_by = excluded.issued_by,"
                " used_at = NULL, sms_sent_at = NULL, rating_round = excluded.rating_round") if replace else "DO NOTHING"
    stored = await conn.fetchval(
        "INSERT INTO rating_links (case_id, link_id, token_hash, expires_at, issued_at, issued_by, rating_round)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_id) {conflict} RETURNING true",
        case_id, claims.link_id, token_hash, claims.expires_at, at, issued_by, rating_round)
    if stored:
        await _hand_to_sms(conn, case_id, claims, at=at, rating_round=rating_round)
    return bool(stored)


async def case_of_link(conn: asyncpg.Connection, token_hash: str) -> UUID | None:
    return await conn.fetchval("SELECT case_id FROM rating_links WHERE token_hash = $1", token_hash)


async def lock_link(conn: asyncpg.Connection, token_hash: str) -> asyncpg.Record | None:
    """The link row, locked; lock its case first (every path locks case, then link)."""
    return await conn.fetchrow(
        "SELECT case_id, expires_at, used_at, rating_round FROM rating_links WHERE token_hash = $1 FOR UPDATE",
        token_hash)


async def mark_link_used(conn: asyncpg.Connection, case_id: UUID, *, at: datetime) -> None:
    await conn.execute("UPDATE rating_links SET used_at = $2 WHERE case_id = $1", case_id, at)


async def link_facts(conn: asyncpg.Connection, token_hash: str) -> asyncpg.Record | None:
    """What the rating page shows of a link's case: no personal data."""
    return await conn.fetchrow(
        "SELECT l.expires_at, l.used_at, l.rating_round, c.item_name, t.name AS centre_name, c.completed_at, c.status,"
        " c.rated_at IS NOT NULL AS rated, c.rated_again_at IS NOT NULL AS rated_again"
        " FROM rating_links l JOIN cases c USING (case_id)"
        " JOIN townships t ON t.township_id = c.township_id WHERE l.token_hash = $1", token_hash)


async def _hand_to_sms(conn: asyncpg.Connection, case_id: UUID, claims: LinkClaims, *, at: datetime,
                       rating_round: int) -> None:
    """The link goes on the case's contact record (a new version: the relay publishes it to notify) unless
    the resident's number was erased; `sms_sent_at` then says it was handed to the SMS path."""
    handed = await conn.fetchval(
        "UPDATE case_contacts SET rating_link_id = $2, rating_link_expires_at = $3, rating_link_round = $5,"
        " version = version + 1, recorded_at = $4 WHERE case_id = $1 AND phone IS NOT NULL RETURNING true",
        case_id, claims.link_id, claims.expires_at, at, rating_round)
    if handed:
        await conn.execute("UPDATE rating_links SET sms_sent_at = $2 WHERE case_id = $1", case_id, at)
