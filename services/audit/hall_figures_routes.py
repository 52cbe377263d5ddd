"""GET /hall-figures: a township's visitors, waits and staffing suggestion over a period."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.audit import access_log, hall_figures_store
from services.audit.deps import AuditRuntime
from services.audit.hall_figures import HallFigures, hall_figures
from services.audit.periods import MAX_PERIOD_DAYS, period
from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.fields import Code

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/hall-figures", response_model=HallFigures,
            summary="A township's visitors and waits by month, week, weekday and hour, and the windows to open "
                    "(大厅人流与窗口配置建议)", responses=error_responses(401, 403, 422))
async def get_hall_figures(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.hall_figures"))],
    first_day: Annotated[date, Query(alias="from", description="First day, Beijing time.", examples=["2026-01-01"])],
    last_day: Annotated[date, Query(alias="to", description=f"Last day, included; at most {MAX_PERIOD_DAYS} days.",
                                    examples=["2026-12-31"])],
    township_id: Annotated[Code | None, Query(description="The township; a centre head's own by default.")] = None,
) -> HallFigures:
    rt: AuditRuntime = request.app.state.runtime
    township = grant.listing_township(township_id)
    span = period(first_day, last_day, required=True)
    assert span.start is not None and span.end is not None
    async with rt.pool.acquire() as conn, conn.transaction():
        found = await hall_figures_store.tickets(conn, township_id=township, start=span.start, end=span.end)
        await access_log.record_query(conn, viewer=grant.principal, query="hall_figures", case_ids=[],
                                      result_count=len(found), township_id=township, now=rt.clock.now(),
                                      parameters={"township_id": township, "from": first_day, "to": last_day})
    return hall_figures(found, township_id=township, first_day=first_day, last_day=last_day,
                        target_wait_minutes=rt.settings.target_wait_minutes)
