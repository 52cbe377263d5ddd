"""GET /api/v1/inspections/anomalies/{kind}: each anomaly a paged list with its evidence, by township and
period, in JSON or as an Excel workbook; every answer recorded like any query."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from contracts.workdays import default_calendar
from services.audit import anomaly_store, periods, queries
from services.audit.anomalies import LABELS, RULES, AnomalyKind, Finding, Limits
from services.audit.inspection_schemas import AnomalyItem, AnomalyPage, Evidence
from services.audit.query_routes import (
    XLSX,
    CursorParam,
    FormatParam,
    FromParam,
    PageSizeParam,
    ToParam,
    TownshipParam,
    excel,
    limit_of,
    query_name,
    runtime_of,
)
from services.audit.settings import AuditSettings
from services.audit.workbook import Column
from services.kit.access import Grant, permit
from services.kit.errors import error_responses

router = APIRouter(prefix="/api/v1/inspections", tags=["inspections"])

COLUMNS = [Column(k, h) for k, h in (
    ("case_no", "办件号或投诉编号"), ("township_id", "乡镇"), ("department_code", "科室"), ("staff_id", "工作人员"),
    ("at", "发生时间（北京时间）"), ("summary", "情况说明"), ("count", "次数"), ("evidence_text", "证据（审计序号 事件类型）"),
    ("case_id", "办件编号"))]


def limits_of(settings: AuditSettings) -> Limits:
    return Limits(follow_up_working_days=settings.follow_up_working_days,
                  rectification_working_days=settings.rectification_working_days,
                  resident_told_hours=settings.resident_told_hours)


def _item(finding: Finding, found: dict[Any, dict[str, Any]]) -> AnomalyItem:
    evidence = [Evidence(**found[i]) if i in found else Evidence(event_id=i, seq=None, event_type=None,
                                                                     occurred_at=None, actor=None)
                for i in finding.evidence]
    return AnomalyItem(case_id=finding.case_id, case_no=finding.case_no, township_id=finding.township_id,
                       department_code=finding.department_code, staff_id=finding.staff_id, at=finding.at,
                       summary=finding.summary, count=finding.count, evidence=evidence)


@router.get("/anomalies/{kind}", response_model=AnomalyPage, responses={**error_responses(401, 403, 422), **XLSX},
            summary="One kind of anomaly, each with the audit records it rests on, paged (异常清单)")
async def inspect_anomalies(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.inspect_anomalies"))],
    kind: Annotated[AnomalyKind, Path(description="overdue_case, ping_pong, second_notice, …")],
    township_id: TownshipParam = None, period_from: FromParam = None, period_to: ToParam = None,
    cursor: CursorParam = None, page_size: PageSizeParam = 50, format: FormatParam = "json",
) -> Any:
    rt = runtime_of(request)
    township = queries.scope_township(grant, township_id)
    window, limit = periods.period(period_from, period_to), limit_of(page_size, format)
    now, limits, calendar = rt.clock.now(), limits_of(rt.settings), default_calendar()
    parameters = {"kind": kind, "township_id": township, "from": period_from, "to": period_to,
                  "cursor": cursor}
    async with rt.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        if kind == "top_breaching_staff":
            key = queries.decode_cursor(cursor, parts=1)
            offset = queries.whole_number(key[0]) if key else 0
            rows = await anomaly_store.top_breaching_staff(conn, township_id=township, period=window, offset=offset,
                                                           limit=limit)
            next_key: tuple[object, ...] = (offset + len(rows),)
        else:
            rows = await anomaly_store.candidates(conn, kind, now=now, limits=limits, township_id=township,
                                                  period=window, after=queries.time_cursor(cursor), limit=limit)
            next_key = (rows[-1]["sort_at"].isoformat(), rows[-1]["sort_id"]) if rows else ()
        rule = RULES[kind]
        findings = [f for f in (rule(r, now, limits, calendar) for r in rows) if f is not None]
        found = await anomaly_store.evidence(conn, [i for f in findings for i in f.evidence])
        await queries.record(conn, grant, query=query_name(f"anomaly_{kind}", format), parameters=parameters,
                             case_ids=(f.case_id for f in findings), result_count=len(findings), township_id=township,
                             now=now)
    items = [_item(f, found) for f in findings]
    if format == "xlsx":
        rows_out = [{**i.model_dump(), "evidence_text": "；".join(f"{e.seq} {e.event_type}" for e in i.evidence)}
                    for i in items]
        return excel(grant, title=f"异常清单 {LABELS[kind]}", parameters=parameters, columns=COLUMNS, rows=rows_out,
                     now=now, full=len(rows) >= limit)
    return AnomalyPage(kind=kind, label=LABELS[kind], items=items,
                       next_cursor=queries.encode_cursor(*next_key) if len(rows) >= limit else None)
