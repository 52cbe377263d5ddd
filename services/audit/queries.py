"""Inspectors' queries over the read model: the paged event query and the case lookup by case number,
with what every inspection query shares (period, page size, keyset cursor, the access record)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from contracts.errors import DomainError
from services.audit import access_log
from services.audit.periods import Period
from services.kit.access import ALL, Grant

MAX_PAGE_SIZE = 200
EXPORT_LIMIT = 10_000  # rows in one Excel export; the sheet header says when there were more


class PageSizeTooLarge(DomainError):
    status, code, message = 422, "PAGE_SIZE_TOO_LARGE", f"每页最多 {MAX_PAGE_SIZE} 条，请减小 page_size"


class CursorInvalid(DomainError):
    status, code, message = 422, "CURSOR_INVALID", "翻页标记无效，请从第一页重新查询"


class CaseNoNotFound(DomainError):
    status, code, message = 404, "CASE_NO_NOT_FOUND", "未找到该办件编号的审计记录"


def page_size(size: int) -> int:
    if size > MAX_PAGE_SIZE:
        raise PageSizeTooLarge()
    return size


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(k) for k in key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, parts: int) -> list[str] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise CursorInvalid() from None
    if not isinstance(key, list) or len(key) != parts or not all(isinstance(k, str) for k in key):
        raise CursorInvalid()
    return key


def time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """A cursor (moment, id) as the keyset pages on."""
    key = decode_cursor(cursor, parts=2)
    if key is None:
        return None
    try:
        moment = datetime.fromisoformat(key[0])
    except ValueError:
        raise CursorInvalid() from None
    if moment.tzinfo is None:
        raise CursorInvalid()
    return moment, key[1]


def seq_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """A cursor (moment, seq) of the event query."""
    key = time_cursor(cursor)
    if key is None:
        return None
    return key[0], whole_number(key[1])


def whole_number(text: str) -> int:
    """A non-negative bigint from a cursor, else CursorInvalid."""
    if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
        raise CursorInvalid()
    return int(text)


def scope_township(grant: Grant, township_id: str | None) -> str | None:
    """The township asked about: anyone county-wide may leave it out; a centre head gets their own."""
    if grant.scope == ALL:
        return township_id
    return grant.listing_township(township_id)


async def record(conn: asyncpg.Connection, grant: Grant, *, query: str, parameters: Mapping[str, object],
                 case_ids: Iterable[UUID | None], result_count: int, township_id: str | None, now: datetime) -> None:
    """The access record of an answer, in the answer's transaction (查询留痕)."""
    await access_log.record_query(conn, viewer=grant.principal, query=query, parameters=parameters,
                                  case_ids=[c for c in case_ids if c is not None], result_count=result_count,
                                  township_id=township_id, now=now)


@dataclass(frozen=True)
class EventFilter:
    case_ids: list[UUID] | None = None
    township_id: str | None = None
    department_code: str | None = None
    staff_id: str | None = None
    event_type: str | None = None
    period: Period = Period(None, None)


async def case_ids_of(conn: asyncpg.Connection, case_no: str) -> list[UUID]:
    ids = [r["case_id"] for r in await conn.fetch("SELECT case_id FROM audit_cases WHERE case_no = $1", case_no)]
    if not ids:
        raise CaseNoNotFound()
    return ids


def _where(f: EventFilter, after: tuple[datetime, int] | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def add(sql: str, value: Any) -> None:
        args.append(value)
        clauses.append(sql.replace("?", f"${len(args)}"))

    if f.case_ids is not None:
        add("i.case_id = ANY(?::uuid[])", f.case_ids)
    for column in ("township_id", "department_code", "staff_id", "event_type"):
        if (value := getattr(f, column)) is not None:
            add(f"i.{column} = ?", value)
    if f.period.start:
        add("i.occurred_at >= ?", f.period.start)
    if f.period.end:
        add("i.occurred_at < ?", f.period.end)
    if after:
        args += [after[0], after[1]]
        clauses.append(f"(i.occurred_at, i.seq) > (${len(args) - 1}, ${len(args)})")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


@dataclass(frozen=True)
class EventRow:
    seq: int
    event_id: UUID
    event_type: str
    case_id: UUID
    case_no: str | None
    township_id: str
    department_code: str | None
    staff_id: str | None
    occurred_at: datetime
    actor: dict[str, str]
    payload: dict[str, Any]


async def events(conn: asyncpg.Connection, f: EventFilter, *, after: tuple[datetime, int] | None,
                 limit: int) -> list[EventRow]:
    """Logged events matching `f`, in order of occurrence then seq, after the cursor."""
    where, args = _where(f, after)
    rows = await conn.fetch(
        "SELECT i.seq, l.event_id, i.event_type, i.case_id, c.case_no, i.township_id, i.department_code, i.staff_id,"
        " i.occurred_at, l.envelope FROM audit_event_index i JOIN audit_log l ON l.seq = i.seq"
        f" LEFT JOIN audit_cases c ON c.case_id = i.case_id{where}"
        f" ORDER BY i.occurred_at, i.seq LIMIT {int(limit)}", *args)
    out = []
    for r in rows:
        envelope = json.loads(r["envelope"])
        out.append(EventRow(**{k: v for k, v in dict(r).items() if k != "envelope"},
                            actor=envelope.get("actor", {}), payload=envelope.get("payload", {})))
    return out


async def cases_by_no(conn: asyncpg.Connection, case_no: str) -> list[asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM audit_cases WHERE case_no = $1 ORDER BY submitted_at NULLS LAST, case_id",
                            case_no)
    if not rows:
        raise CaseNoNotFound()
    return rows


def next_cursor(rows: Sequence[Any], limit: int, key: Any) -> str | None:
    """The cursor after a full page, else None (the last page)."""
    return encode_cursor(*key(rows[-1])) if rows and len(rows) >= limit else None
