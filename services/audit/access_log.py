"""The record of who looked at what (查询留痕): every inspector's query or export appends an AuditQueried
to audit's own stream, which the relay publishes and the consumer chains like any other event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.envelope import Actor, NewEvent
from contracts.events import AUDIT_TOWNSHIP_ID
from contracts.inspection_events import ACCESS_LOG_ID, MAX_QUERY_CASES, AuditQueried, AuditQueriedPayload
from services.kit import eventstore
from services.kit.auth import Principal

MAX_PARAMETER_CHARS = 200


def queried(*, viewer: Principal, query: str, parameters: Mapping[str, object], case_ids: Iterable[UUID],
            result_count: int) -> AuditQueriedPayload:
    """The access record's payload: parameters as text (none left out, long values cut), the first cases shown."""
    shown = list(dict.fromkeys(case_ids))[:MAX_QUERY_CASES]
    given = {name: str(value)[:MAX_PARAMETER_CHARS] for name, value in parameters.items() if value is not None}
    return AuditQueriedPayload(query=query, parameters=given, viewer_township_id=viewer.township_id,
                               case_ids=shown, result_count=result_count)


async def record_query(conn: asyncpg.Connection, *, viewer: Principal, query: str, parameters: Mapping[str, object],
                       case_ids: Iterable[UUID], result_count: int, township_id: str | None, now: datetime) -> None:
    """Appends the access record inside the caller's transaction: the answer is given only if the record is kept."""
    payload = queried(viewer=viewer, query=query, parameters=parameters, case_ids=case_ids, result_count=result_count)
    await eventstore.append(conn, source="audit", case_id=ACCESS_LOG_ID, township_id=township_id or AUDIT_TOWNSHIP_ID,
                            origin=eventstore.Origin(actor=Actor(kind=viewer.role, id=viewer.sub)),
                            events=[NewEvent(AuditQueried, payload)], now=now)

