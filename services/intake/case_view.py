"""Intake's read model of its cases (`cases`, `owed_materials`), kept by projecting intake's own
events inside the transaction that appends them."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from contracts.envelope import Envelope
from contracts.events import (
    ApplicationFields,
    ApplicationReceived,
    CaseRejectedAtIntake,
    CaseSubmitted,
    MaterialsRequested,
    MaterialsSupplied,
    ResultDelivered,
    ToleratedMaterialDue,
)


async def project(conn: asyncpg.Connection, events: list[Envelope]) -> None:
    for event in events:
        await _project_one(conn, event)


async def _project_one(conn: asyncpg.Connection, event: Envelope) -> None:
    case_id, at = event.case_id, event.occurred_at
    if isinstance(event.payload, ApplicationFields):
        await _ensure_case(conn, event)
    match event:
        case ApplicationReceived():
            await conn.execute("UPDATE cases SET status = 'received', received_at = $2, notice_due = $3"
                               " WHERE case_id = $1", case_id, at, event.payload.notice_due)
        case MaterialsRequested(payload=p):
            await conn.execute(
                "UPDATE cases SET status = 'materials_requested', notices_given = $2,"
                " second_notices = second_notices + $3::int, received_at = coalesce(received_at, $4),"
                " catalogue_version = $5 WHERE case_id = $1",
                case_id, p.notice_no, int(p.second_notice), at, p.catalogue_version)
            await conn.executemany(
                "INSERT INTO owed_materials (case_id, code, name, essential, problem, note, notice_no)"
                " VALUES ($1, $2, $3, true, $4, $5, $6) ON CONFLICT (case_id, code) DO UPDATE SET"
                " problem = excluded.problem, note = excluded.note, notice_no = excluded.notice_no, supplied_at = NULL",
                [(case_id, m.code, m.name, m.problem, m.note, p.notice_no) for m in p.materials])
        case MaterialsSupplied(payload=supply):
            await conn.execute(
                "UPDATE owed_materials SET supplied_at = $2 WHERE case_id = $1 AND code = ANY($3::text[])"
                " AND NOT code = ANY($4::text[])", case_id, at, supply.materials, supply.still_owed)
        case CaseSubmitted(payload=accepted):
            await conn.execute(
                "UPDATE cases SET status = 'submitted', accepted_at = $2, promised_deadline = $3,"
                " deemed_accepted = $4, catalogue_version = $5, deadline_provisional = $6 WHERE case_id = $1",
                case_id, at, accepted.promised_deadline, accepted.deemed_accepted, accepted.catalogue_version,
                accepted.deadline_provisional)
        case ToleratedMaterialDue(payload=due):
            await conn.executemany(
                "INSERT INTO owed_materials (case_id, code, name, essential, problem, note, due, due_provisional)"
                " VALUES ($1, $2, $3, false, $4, $5, $6, $7) ON CONFLICT (case_id, code) DO NOTHING",
                [(case_id, m.code, m.name, m.problem, m.note, due.due, due.due_provisional) for m in due.materials])
        case CaseRejectedAtIntake():
            await conn.execute("UPDATE cases SET status = 'rejected', rejected_at = $2 WHERE case_id = $1", case_id, at)
        case ResultDelivered():
            await conn.execute("UPDATE cases SET delivered_at = $2 WHERE case_id = $1", case_id, at)


async def _ensure_case(conn: asyncpg.Connection, event: Envelope) -> None:
    """The first event of an application creates its row; later ones carry the same identity."""
    p = event.payload
    assert isinstance(p, ApplicationFields)
    await conn.execute(
        "INSERT INTO cases (case_id, case_no, township_id, item_code, item_name, department_code, channel,"
        " applicant_name, applicant_id_masked, status, submitted_at, kind, village_id, agent_id,"
        " first_contact_staff_id, catalogue_version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', $10, $11, $12, $13, $14, $15)"
        " ON CONFLICT (case_id) DO NOTHING",
        event.case_id, p.case_no, event.township_id, p.item_code, p.item_name, p.department_code, p.channel,
        p.applicant_name, p.applicant_id_masked, event.occurred_at, p.kind, p.village_id, p.agent_id,
        p.first_contact_staff_id, p.catalogue_version,
    )


async def owed_materials(conn: asyncpg.Connection, case_id: UUID) -> list[dict]:
    """What the case still owes: essential materials of an open notice, tolerated ones with their due date."""
    rows = await conn.fetch(
        "SELECT code, name, essential, problem, note, notice_no, due, due_provisional FROM owed_materials"
        " WHERE case_id = $1 AND supplied_at IS NULL ORDER BY essential DESC, code", case_id)
    return [dict(r) for r in rows]
