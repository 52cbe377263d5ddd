"""GET /api/v1/inspections/figures: cases, on-time rate, satisfaction rate and follow-up rate per township,
department or staff member and month or week, in JSON or as an Excel workbook; recorded like any query."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.audit import figure_store, periods, queries
from services.audit.figures import Dimension, PeriodUnit, combine
from services.audit.inspection_schemas import FigureRow, FigureTable
from services.audit.query_routes import XLSX, FormatParam, FromParam, ToParam, TownshipParam, excel, query_name, runtime_of
from services.audit.workbook import Column
from services.kit.access import Grant, permit
from services.kit.errors import error_responses

router = APIRouter(prefix="/api/v1/inspections", tags=["inspections"])
COLUMNS = [Column(name, str(field.title)) for name, field in FigureRow.model_fields.items()]


@router.get("/figures", response_model=FigureTable, responses={**error_responses(401, 403, 422), **XLSX},
            summary="Cases, 按期办结率, 满意率 and 差评回访率 per township, department or staff member and period (统计)")
async def inspect_figures(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.inspect_figures"))],
    by: Annotated[Dimension, Query(description="township, department or staff (the case's current holder).")] = "township",
    period: Annotated[PeriodUnit, Query(description="month or week (weeks start on Monday).")] = "month",
    township_id: TownshipParam = None, period_from: FromParam = None, period_to: ToParam = None,
    format: FormatParam = "json",
) -> Any:
    rt = runtime_of(request)
    township = queries.scope_township(grant, township_id)
    window, now = periods.period(period_from, period_to), rt.clock.now()
    parameters = {"by": by, "period": period, "township_id": township, "from": period_from,
                  "to": period_to}
    async with rt.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        figures = combine(await figure_store.counts(conn, by=by, unit=period, township_id=township, period=window))
        await queries.record(conn, grant, query=query_name("figures", format), parameters=parameters, case_ids=(),
                             result_count=len(figures), township_id=township, now=now)
    rows = [FigureRow(key=f.key, period_start=f.period_start, **f.counts, on_time_rate=f.on_time_rate,
                      satisfaction_rate=f.satisfaction_rate, follow_up_rate=f.follow_up_rate) for f in figures]
    if format == "xlsx":
        return excel(grant, title="办件统计", parameters=parameters, columns=COLUMNS,
                     rows=(r.model_dump() for r in rows), now=now)
    return FigureTable(by=by, period=period, rows=rows)
