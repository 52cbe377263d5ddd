"""POST /api/v1/sms/receipts/{provider}: the providers' delivery receipts (状态报告).

A provider is no bianmin role: the route is public to the access policy and authenticates inside, by
the shared secret NOTIFY_SMS_RECEIPT_SECRET, sent as the header X-Receipt-Token or, for a provider
console that only takes a URL, as the query parameter `token`. Unset, every receipt is refused.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from services.kit.access import public
from services.kit.errors import ApiError, error_responses
from services.notify import receipts
from services.notify.deps import NotifyRuntime

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["notify"])
MAX_REPORTS = 1000


class ReceiptUnauthenticated(ApiError):
    def __init__(self) -> None:
        super().__init__(401, "RECEIPT_UNAUTHENTICATED", "状态报告的凭据缺失或不正确。")


def _authenticate(runtime: NotifyRuntime, header: str | None, query: str | None) -> None:
    secret = runtime.settings.providers.secret("sms_receipt_secret")
    given = header or query or ""
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        raise ReceiptUnauthenticated()


@router.post("/sms/receipts/{provider}", summary="Delivery receipts from an SMS provider (短信状态报告)",
             status_code=200, responses={**error_responses(401, body=True), 202: {"description": "Nothing applied."}},
             dependencies=[Depends(public("notify.sms_receipts"))])
async def post_receipts(
    request: Request,
    provider: Annotated[receipts.ReceiptProvider, Path(description="alibaba or tencent")],
    reports: Annotated[list[dict[str, Any]], Body(max_length=MAX_REPORTS, description="The provider's reports.")],
    x_receipt_token: Annotated[str | None, Header(max_length=200)] = None,
    token: Annotated[str | None, Query(max_length=200)] = None,
) -> JSONResponse:
    runtime: NotifyRuntime = request.app.state.runtime
    _authenticate(runtime, x_receipt_token, token)
    applied, ignored = 0, []
    for report in reports:
        receipt = receipts.parse(provider, report)
        if receipt is None:
            ignored.append("names no message")
            continue
        async with runtime.pool.acquire() as conn, conn.transaction():
            reason = await receipts.apply(conn, provider, receipt, now=runtime.clock.now())
        if reason is None:
            applied += 1
        else:
            ignored.append(reason)
            log.info("sms receipt ignored", extra={"provider": provider, "reason": reason,
                                                   "message_id": str(receipt.message_id)})
    # Both providers' acknowledgement shapes: each stops re-pushing once it reads its own.
    body = {"code": 0, "msg": "成功", "result": 0, "errmsg": "OK", "applied": applied, "ignored": ignored}
    return JSONResponse(body, status_code=200 if applied or not reports else 202)
