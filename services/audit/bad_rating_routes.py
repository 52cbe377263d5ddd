"""GET /api/v1/inspections/bad-ratings (差评台账) and /bad-ratings/figures (回访率, 整改率, 满意率 per township and
period), in JSON or as an Excel workbook; every answer recorded like any inspection query (ADR 37)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from contracts.workdays import default_calendar
from services.audit import bad_rating_store, figure_store, periods, queries
from services.audit.anomaly_routes import limits_of
from services.audit.bad_rating_schemas import BadRatingFigureRow, BadRatingFigureTable, BadRatingItem, BadRatingPage
from services.audit.bad_ratings import STATES, State, dues, ledger_figures, state_of
from services.audit.figures import PeriodUnit, combine
from services.audit.query_routes import (
    XLSX,
    CursorParam,
    DepartmentParam,
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
from services.audit.workbook import Column
from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.fields import StaffId

router = APIRouter(prefix="/api/v1/inspections", tags=["inspections"])
LEDGER_COLUMNS = [Column(n, str(f.title)) for n, f in BadRatingItem.model_fields.items() if n != "state"]
FIGURE_COLUMNS = [Column(n, str(f.title)) for n, f in BadRatingFigureRow.model_fields.items()]


def _item(row: Any, state: State, due_visit: Any, due_rectification: Any) -> BadRatingItem:
    return BadRatingItem(
        **{k: row[k] for k in BadRatingItem.model_fields if k in row.keys() and k not in (
            "case_no", "department_code", "owner_staff_id", "visit_due", "rectification_due")},
        case_no=row["case_no_shown"], department_code=row["department_shown"], owner_staff_id=row["owner_shown"],
        state=state, state_label=STATES[state], visit_due=due_visit, rectification_due=due_rectification,
        evidence_event_ids=bad_rating_store.evidence_ids(row))


@router.get("/bad-ratings", response_model=BadRatingPage, responses={**error_responses(401, 403, 422), **XLSX},
            summary="Every bad rating with its visit, rectification or appeal, owner, dues and state, paged (差评台账)")
async def inspect_bad_ratings(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.inspect_bad_ratings"))],
    township_id: TownshipParam = None, department_code: DepartmentParam = None,
    owner_staff_id: Annotated[StaffId | None, Query(description="The follow-up's owner (谁办理谁负责).")] = None,
    state: Annotated[State | None, Query(description="open, visited, rectified, appealed, appeal_upheld, "
                                                     "appeal_rejected or overdue.")] = None,
    period_from: FromParam = None, period_to: ToParam = None, cursor: CursorParam = None,
    page_size: PageSizeParam = 50, format: FormatParam = "json",
) -> Any:
    rt = runtime_of(request)
    township = queries.scope_township(grant, township_id)
    window, limit = periods.period(period_from, period_to), limit_of(page_size, format)
    now, limits, calendar = rt.clock.now(), limits_of(rt.settings), default_calendar()
    parameters = {"township_id": township, "department_code": department_code, "owner_staff_id": owner_staff_id,
                  "state": state, "from": period_from, "to": period_to, "cursor": cursor}
    async with rt.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        rows = await bad_rating_store.page(conn, bad_rating_store.LedgerFilter(
            township_id=township, department_code=department_code, owner_staff_id=owner_staff_id, state=state,
            period=window), after=queries.time_cursor(cursor), limit=limit)
        items = []
        for row in rows:
            shown = state_of(row, now, limits, calendar)
            if state is None or shown == state:
                due = dues(row, limits, calendar)
                items.append(_item(row, shown, due.visit, due.rectification))
        await queries.record(conn, grant, query=query_name("bad_ratings", format), parameters=parameters,
                             case_ids=(i.case_id for i in items), result_count=len(items), township_id=township,
                             now=now)
    if format == "xlsx":
        return excel(grant, title="差评台账", parameters=parameters, columns=LEDGER_COLUMNS,
                     rows=(i.model_dump() for i in items), now=now, full=len(rows) >= limit)
    last = (rows[-1]["sort_at"].isoformat(), rows[-1]["sort_id"]) if rows else ()
    return BadRatingPage(items=items, next_cursor=queries.encode_cursor(*last) if len(rows) >= limit else None)


@router.get("/bad-ratings/figures", response_model=BadRatingFigureTable,
            responses={**error_responses(401, 403, 422), **XLSX},
            summary="回访率, 整改率 and 满意率 per township and month or week (差评闭环统计)")
async def inspect_bad_rating_figures(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.inspect_bad_rating_figures"))],
    period: Annotated[PeriodUnit, Query(description="month or week (weeks start on Monday).")] = "month",
    township_id: TownshipParam = None, period_from: FromParam = None, period_to: ToParam = None,
    format: FormatParam = "json",
) -> Any:
    rt = runtime_of(request)
    township = queries.scope_township(grant, township_id)
    window, now = periods.period(period_from, period_to), rt.clock.now()
    parameters = {"period": period, "township_id": township, "from": period_from, "to": period_to}
    async with rt.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        loop = ledger_figures(await bad_rating_store.figure_rows(conn, township_id=township, period=window), now=now,
                              unit=period, limits=limits_of(rt.settings), calendar=default_calendar())
        satisfaction = {(f.key, f.period_start): f for f in combine(await figure_store.counts(
            conn, by="township", unit=period, township_id=township, period=window))}
        keys = sorted({(f.township_id, f.period_start) for f in loop}, key=lambda k: (k[1], k[0]))
        await queries.record(conn, grant, query=query_name("bad_rating_figures", format), parameters=parameters,
                             case_ids=(), result_count=len(keys), township_id=township, now=now)
    by_key = {(f.township_id, f.period_start): f for f in loop}
    rows = []
    for key in keys:
        f, s = by_key[key], satisfaction.get(key)
        rows.append(BadRatingFigureRow(
            township_id=key[0], period_start=key[1], **f.counts, follow_up_rate=f.follow_up_rate,
            rectification_rate=f.rectification_rate, ratings=s.counts["ratings"] if s else 0,
            satisfied=s.counts["satisfied"] if s else 0, satisfaction_rate=s.satisfaction_rate if s else None))
    if format == "xlsx":
        return excel(grant, title="差评闭环统计", parameters=parameters, columns=FIGURE_COLUMNS,
                     rows=(r.model_dump() for r in rows), now=now)
    return BadRatingFigureTable(period=period, rows=rows)
