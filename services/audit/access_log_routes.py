"""GET /access-log: who looked at which cases, when (查询留痕), read from the chained AuditQueried records."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from contracts.workdays import SHANGHAI
from services.audit import access_log, access_log_store, labels
from services.audit.deps import AuditRuntime
from services.audit.periods import period
from services.audit.timeline_routes import TimelineActor
from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.fields import PG_BIGINT_MAX, StaffId

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AccessRecord(BaseModel):
    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    occurred_at: datetime = Field(title="查询时间（北京时间）")
    viewer: TimelineActor = Field(title="查询人")
    viewer_township_id: str | None = Field(title="查询人所属乡镇", description="None for county-wide roles.")
    township_id: str = Field(title="所查乡镇", description="`county` when the query spanned every township.")
    query: str = Field(title="查询内容", examples=["case_timeline"])
    parameters: dict[str, str] = Field(title="查询条件")
    case_ids: list[UUID] = Field(title="涉及办件")
    result_count: int = Field(title="结果条数")
    hash: str = Field(title="记录哈希")


class AccessLogPage(BaseModel):
    records: list[AccessRecord] = Field(title="查询记录", description="Newest first.")
    next_before_seq: int | None = Field(title="下一页", description="Pass as before_seq for the next page; "
                                        "null on the last page.")


def _entry(record) -> AccessRecord:
    envelope = json.loads(record.envelope)
    actor, payload = envelope["actor"], envelope["payload"]
    return AccessRecord(
        seq=record.seq, event_id=record.event_id, occurred_at=record.occurred_at.astimezone(SHANGHAI),
        viewer=TimelineActor(kind=actor["kind"], id=actor["id"], label=labels.role_label(actor["kind"])),
        viewer_township_id=payload.get("viewer_township_id"), township_id=record.township_id, query=payload["query"],
        parameters=payload.get("parameters", {}), case_ids=payload.get("case_ids", []),
        result_count=payload["result_count"], hash=record.hash)


@router.get("/access-log", response_model=AccessLogPage,
            summary="Who looked at which cases, when: the chained access record (查询留痕)",
            responses=error_responses(401, 403, 422))
async def get_access_log(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.access_log"))],
    viewer: Annotated[StaffId | None, Query(description="The viewer's id (token subject).")] = None,
    case_id: Annotated[UUID | None, Query(description="Only queries that showed this case.")] = None,
    first_day: Annotated[date | None, Query(alias="from", description="First day, Beijing time.")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="Last day, included.")] = None,
    before_seq: Annotated[int | None, Query(ge=1, le=PG_BIGINT_MAX, description="Records before this seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AccessLogPage:
    rt: AuditRuntime = request.app.state.runtime
    span = period(first_day, last_day)
    async with rt.pool.acquire() as conn, conn.transaction():
        records = await access_log_store.queries(conn, viewer=viewer, case_id=case_id, start=span.start,
                                                 end=span.end, before_seq=before_seq, limit=limit)
        await access_log.record_query(
            conn, viewer=grant.principal, query="access_log", case_ids=[], result_count=len(records), township_id=None,
            parameters={"viewer": viewer, "case_id": case_id, "from": first_day, "to": last_day,
                        "before_seq": before_seq}, now=rt.clock.now())
    return AccessLogPage(records=[_entry(r) for r in records],
                         next_before_seq=records[-1].seq if len(records) == limit else None)
