"""The read model's SQL: folding audit records into audit_cases, audit_event_index, audit_staff,
audit_roster_days, audit_absences, audit_complaints and audit_bad_ratings, live and in catch-up chunks.

The watermark (audit_read_model_state.folded_seq) says how far the log is folded. Both ways of folding
hold the append lock, so a record is folded exactly once: live, by the transaction that appends it,
when the model has caught up; otherwise by the catch-up task, a chunk at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from services.audit import bad_rating_store, store
from services.audit import read_model as rm
from services.audit.domain import AuditRecord

log = logging.getLogger(__name__)


def _upsert(table: str, columns: Sequence[str], key: str) -> str:
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) ON CONFLICT ({key}) DO UPDATE SET {updates}"


_CASE_UPSERT = _upsert("audit_cases", rm.CASE_COLUMNS, "case_id")
_COMPLAINT_UPSERT = _upsert("audit_complaints", rm.COMPLAINT_COLUMNS, "complaint_id")
_INDEX_COLUMNS = ("seq", "case_id", "township_id", "department_code", "staff_id", "event_type", "occurred_at")
_INDEX_INSERT = f"INSERT INTO audit_event_index ({', '.join(_INDEX_COLUMNS)}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
_COPY_FROM = 20  # rows from which COPY beats INSERTs
_STAFF_UPSERT = (
    "INSERT INTO audit_staff (staff_id, name, role, department_code, township_id, version) VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (staff_id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,"
    " department_code = EXCLUDED.department_code, township_id = EXCLUDED.township_id, version = EXCLUDED.version"
    " WHERE audit_staff.version < EXCLUDED.version")
_ROSTER_UPSERT = (
    "INSERT INTO audit_roster_days (township_id, duty_date, day_kind, staff_ids, version) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (township_id, duty_date) DO UPDATE SET day_kind = EXCLUDED.day_kind,"
    " staff_ids = EXCLUDED.staff_ids, version = EXCLUDED.version WHERE audit_roster_days.version < EXCLUDED.version")
_ABSENCE_INSERT = ("INSERT INTO audit_absences (event_id, seq, staff_id, township_id, duty_date, kind, noticed_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING")


async def folded_seq(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT folded_seq FROM audit_read_model_state WHERE id = 1")


async def _set_folded(conn: asyncpg.Connection, seq: int) -> None:
    await conn.execute("UPDATE audit_read_model_state SET folded_seq = $1 WHERE id = 1", seq)


async def follow(conn: asyncpg.Connection, record: AuditRecord) -> bool:
    """Fold a record just appended (under the append lock), if the model has caught up with the log
    before it; False when it is behind and the catch-up task will fold the record. Any failure raises:
    the append rolls back and is retried, so the model never silently misses a record."""
    # Check and move the watermark in one statement; the fold's failure rolls the move back with the append.
    moved = await conn.fetchval("UPDATE audit_read_model_state SET folded_seq = $1"
                                " WHERE id = 1 AND folded_seq = $1 - 1 RETURNING true", record.seq)
    if not moved:
        return False
    await fold(conn, [rm.logged_event(record)])
    return True


async def fold(conn: asyncpg.Connection, events: Sequence[rm.LoggedEvent]) -> None:
    """Fold events, in seq order, into the tables: read the rows they touch, fold, write each row once."""
    case_ids = list({e.case_id for e in events if rm.touches_case(e)})
    complaint_ids = list({e.case_id for e in events if e.event_type in rm.COMPLAINT_EVENTS})
    cases = await _load(conn, "audit_cases", "case_id", rm.CASE_COLUMNS, case_ids, rm.CaseFacts)
    complaints = await _load(conn, "audit_complaints", "complaint_id", rm.COMPLAINT_COLUMNS, complaint_ids,
                             rm.ComplaintFacts)
    staff: list[tuple[Any, ...]] = []
    roster: list[tuple[Any, ...]] = []
    absences: list[tuple[Any, ...]] = []
    for event in events:
        if rm.touches_case(event):
            cases[event.case_id] = rm.fold_case(cases.get(event.case_id), event)
        if event.event_type in rm.COMPLAINT_EVENTS:
            complaints[event.case_id] = rm.fold_complaint(complaints.get(event.case_id), event)
        if fact := rm.staff_fact(event):
            staff.append(rm.as_row(fact))
        roster += [rm.as_row(day) for day in rm.roster_days(event)]
        if gone := rm.absence(event):
            absences.append(rm.as_row(gone))
    index = [rm.as_row(rm.index_row(e)) for e in events]
    if len(index) > _COPY_FROM:
        await conn.copy_records_to_table("audit_event_index", columns=_INDEX_COLUMNS, records=index)
    else:  # one live record: an INSERT is one round trip, COPY three
        await conn.executemany(_INDEX_INSERT, index)
    if cases:
        await conn.executemany(_CASE_UPSERT, [rm.as_row(c) for c in cases.values()])
    if complaints:
        await conn.executemany(_COMPLAINT_UPSERT, [rm.as_row(c) for c in complaints.values()])
    for sql, rows in ((_STAFF_UPSERT, staff), (_ROSTER_UPSERT, roster), (_ABSENCE_INSERT, absences)):
        if rows:
            await conn.executemany(sql, rows)
    await bad_rating_store.fold(conn, events)  # the bad-rating ledger (ADR 37)


async def _load(conn: asyncpg.Connection, table: str, key: str, columns: Sequence[str], ids: list[UUID],
                cls: Any) -> dict[UUID, Any]:
    if not ids:
        return {}
    rows = await conn.fetch(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = ANY($1::uuid[])", ids)
    return {row[key]: cls(**dict(row)) for row in rows}


async def catch_up_chunk(pool: asyncpg.Pool, *, size: int) -> int:
    """Fold the next `size` records after the watermark; how many were folded (0: caught up)."""
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_log(conn)  # live appends wait, so none is folded twice or skipped
        after = await folded_seq(conn)
        records = await store.feed(conn, after_seq=after, limit=size)
        if not records:
            return 0
        await fold(conn, [rm.logged_event(r) for r in records])
        await _set_folded(conn, records[-1].seq)
    return len(records)


async def catch_up(pool: asyncpg.Pool, *, size: int) -> int:
    """Fold the log up to its head; the number of records folded."""
    total = 0
    while folded := await catch_up_chunk(pool, size=size):
        total += folded
        log.info("audit read model catching up", extra={"folded": total})
    return total
