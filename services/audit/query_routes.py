"""Inspectors' query endpoints (/api/v1/inspections/events, /cases/{case_no}) and what the anomaly and
figure endpoints share with them: the parameters, the Excel twin of every answer (`format=xlsx`), and
the access record kept in the answer's own transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from services.audit import periods, queries, workbook
from services.audit.deps import AuditRuntime
from services.audit.inspection_schemas import CaseFactsView, CaseLookup, CaseNo, EventPage, EventType, InspectionEvent
from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.fields import PG_BIGINT_MAX, Code, StaffId

router = APIRouter(prefix="/api/v1/inspections", tags=["inspections"])

TownshipParam = Annotated[Code | None, Query(description="Township; centre heads get their own.")]
DepartmentParam = Annotated[Code | None, Query(description="Department code.")]
StaffParam = Annotated[StaffId | None, Query(description="Staff id.")]
# Dates a county's log can hold; beyond them the bounds would overflow a timestamp.
FromParam = Annotated[date | None, Query(alias="from", ge=periods.EARLIEST_DAY, le=periods.LATEST_DAY,
                                         description="First day of the period (Asia/Shanghai), inclusive.")]
ToParam = Annotated[date | None, Query(alias="to", ge=periods.EARLIEST_DAY, le=periods.LATEST_DAY,
                                       description="Last day of the period (Asia/Shanghai), inclusive.")]
CursorParam = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$",
                                          description="next_cursor of the previous page.")]
PageSizeParam = Annotated[int, Query(ge=1, le=PG_BIGINT_MAX,
                                     description=f"Rows per page, at most {queries.MAX_PAGE_SIZE}.")]
FormatParam = Annotated[Literal["json", "xlsx"], Query(
    description=f"`xlsx`: the same answer as an Excel workbook, every row up to {queries.EXPORT_LIMIT} from "
                "the cursor on; recorded like any query.")]
XLSX: dict[int | str, dict[str, Any]] = {
    200: {"content": {workbook.MEDIA_TYPE: {}}, "description": "JSON, or the Excel workbook with format=xlsx."}}

EVENT_COLUMNS = [workbook.Column(k, h) for k, h in (
    ("seq", "审计序号"), ("occurred_at", "发生时间（北京时间）"), ("township_id", "乡镇"), ("case_no", "办件号"),
    ("event_type", "事件类型"), ("department_code", "科室"), ("staff_id", "工作人员"), ("actor", "操作人"),
    ("event_id", "事件编号"), ("case_id", "办件编号"), ("payload", "事件内容"))]


def runtime_of(request: Request) -> AuditRuntime:
    return request.app.state.runtime


def limit_of(page_size: int, fmt: str) -> int:
    return queries.EXPORT_LIMIT if fmt == "xlsx" else queries.page_size(page_size)


def query_name(name: str, fmt: str) -> str:
    return f"{name}.xlsx" if fmt == "xlsx" else name


def excel(grant: Grant, *, title: str, parameters: Mapping[str, object], columns: Sequence[workbook.Column],
          rows: Iterable[Mapping[str, Any]], now: datetime, full: bool = False) -> Response:
    """An answer as a workbook to file; `full`: the export stopped at its limit."""
    note = f"仅导出前 {queries.EXPORT_LIMIT} 条，其余请翻页导出" if full else ""
    return workbook.download(title=title, exported_by=workbook.exporter(grant.principal), exported_at=now,
                             parameters=parameters, columns=columns, rows=rows, note=note)


@router.get("/events", response_model=EventPage, responses={**error_responses(401, 403, 404, 422), **XLSX},
            summary="Logged events by case number, township, department, staff member, type and period, paged "
                    "(审计事件查询)")
async def inspect_events(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.inspect_events"))],
    case_no: Annotated[CaseNo | None, Query(description="Case number, e.g. QS-20261123-0001.")] = None,
    township_id: TownshipParam = None, department_code: DepartmentParam = None, staff_id: StaffParam = None,
    event_type: Annotated[EventType | None, Query(description="Event type, e.g. CaseCompleted.")] = None,
    period_from: FromParam = None, period_to: ToParam = None, cursor: CursorParam = None,
    page_size: PageSizeParam = 50, format: FormatParam = "json",
) -> Any:
    rt = runtime_of(request)
    township = queries.scope_township(grant, township_id)
    window, limit, after = periods.period(period_from, period_to), limit_of(page_size, format), queries.seq_cursor(cursor)
    parameters = {"case_no": case_no, "township_id": township, "department_code": department_code,
                  "staff_id": staff_id, "event_type": event_type, "from": period_from,
                  "to": period_to, "cursor": cursor}
    now = rt.clock.now()
    async with rt.pool.acquire() as conn, conn.transaction():
        case_ids, asked_about = None, township
        if case_no:
            found = await queries.cases_by_no(conn, case_no)
            for row in found:
                grant.township(row["township_id"] or "")
            case_ids = [row["case_id"] for row in found]
            asked_about = asked_about or found[0]["township_id"]
        rows = await queries.events(conn, queries.EventFilter(
            case_ids=case_ids, township_id=township, department_code=department_code, staff_id=staff_id,
            event_type=event_type, period=window), after=after, limit=limit)
        await queries.record(conn, grant, query=query_name("inspection_events", format), parameters=parameters,
                             case_ids=(r.case_id for r in rows), result_count=len(rows), township_id=asked_about, now=now)
    if format == "xlsx":
        return excel(grant, title="审计事件查询", parameters=parameters, columns=EVENT_COLUMNS,
                     rows=(asdict(r) for r in rows), now=now, full=len(rows) >= limit)
    return EventPage(items=[InspectionEvent(**asdict(r)) for r in rows],
                     next_cursor=queries.next_cursor(rows, limit, lambda r: (r.occurred_at.isoformat(), r.seq)))


CASE_COLUMNS = [workbook.Column(name, str(field.title)) for name, field in CaseFactsView.model_fields.items()]


@router.get("/cases/{case_no}", response_model=CaseLookup, responses={**error_responses(401, 403, 404, 422), **XLSX},
            summary="A case by its number: its id and the facts inspectors judge on (办件查询)")
async def inspect_case(request: Request, case_no: CaseNo,
                       grant: Annotated[Grant, Depends(permit("audit.inspect_case"))],
                       format: FormatParam = "json") -> Any:
    rt = runtime_of(request)
    now = rt.clock.now()
    async with rt.pool.acquire() as conn, conn.transaction():
        found = await queries.cases_by_no(conn, case_no)
        for row in found:
            grant.township(row["township_id"] or "")
        await queries.record(conn, grant, query=query_name("inspection_case", format), parameters={"case_no": case_no},
                             case_ids=(r["case_id"] for r in found), result_count=len(found),
                             township_id=found[0]["township_id"], now=now)
    cases = [CaseFactsView(**{k: row[k] for k in CaseFactsView.model_fields}) for row in found]
    if format == "xlsx":
        return excel(grant, title=f"办件查询 {case_no}", parameters={"case_no": case_no}, columns=CASE_COLUMNS,
                     rows=(c.model_dump() for c in cases), now=now)
    return CaseLookup(case_no=case_no, cases=cases)
