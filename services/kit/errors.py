"""API errors: a stable English `code` and a Chinese `message` on every failure, documented on every route."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.errors import DomainError
from contracts.workdays import CalendarYearUnknown

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers


class ErrorBody(BaseModel):
    """What every failure answers, whatever raised it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Stable English code; clients branch on it.", examples=["VALIDATION_FAILED"])
    message: str = Field(description="Chinese text for the person at the screen.",
                         examples=["请求内容不符合要求：applicant.phone（请填写有效的手机号码）"])
    details: Any = Field(default=None, description="Optional structured detail, e.g. the fields refused.")


def body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        out["details"] = details
    return out


# Chinese wording for pydantic's error types and ours (services.kit.fields); `type` stays in the answer.
_PROBLEMS = {
    "missing": "缺少必填字段", "extra_forbidden": "不允许的字段", "string_too_short": "内容过短",
    "string_too_long": "内容过长", "string_type": "应为文本", "int_parsing": "应为整数", "int_type": "应为整数",
    "int_from_float": "应为整数", "finite_number": "应为有限数值", "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大", "literal_error": "取值不在允许范围内", "enum": "取值不在允许范围内",
    "uuid_parsing": "不是有效的编号", "uuid_type": "不是有效的编号", "list_type": "应为列表",
    "too_long": "条目过多", "too_short": "条目过少", "json_invalid": "请求体不是有效的 JSON",
    "model_attributes_type": "应为对象", "model_type": "应为对象", "dict_type": "应为对象",
    "bool_parsing": "应为是或否", "bool_type": "应为是或否", "string_pattern_mismatch": "格式不正确",
    "text_control_char": "含有空字符、控制字符或换行", "text_bidi_control": "含有双向文本控制字符",
    "text_surrogate": "含有无效的 Unicode 字符", "code_invalid": "只能由英文字母、数字、下划线和连字符组成",
    "id_number_format": "身份证号码应为17位半角数字加1位数字或X", "id_number_checksum": "身份证号码校验位不正确",
    "id_number_birth_date": "身份证号码中的出生日期无效或晚于今天",
    "phone_invalid": "请填写有效的手机号码（半角数字），用于接收办件短信",
}
# Refusals a client may want to branch on get their own top-level code when they are the only kind.
_CODES = {
    "phone_invalid": "PHONE_INVALID", "id_number_format": "ID_CARD_INVALID", "id_number_checksum": "ID_CARD_INVALID",
    "id_number_birth_date": "ID_CARD_INVALID", "text_control_char": "TEXT_UNSAFE_CHARACTER",
    "text_bidi_control": "TEXT_UNSAFE_CHARACTER", "text_surrogate": "TEXT_UNSAFE_CHARACTER",
    "code_invalid": "CODE_INVALID", "json_invalid": "JSON_INVALID",
}
_HTTP_MESSAGES = {
    400: ("BAD_REQUEST", "请求无法解析：请求体须为 UTF-8 编码的 JSON"),
    401: ("UNAUTHORIZED", "请先登录"),
    403: ("FORBIDDEN", "无权执行此操作"),
    404: ("NOT_FOUND", "请求的资源不存在"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    409: ("CONFLICT", "操作与当前状态冲突"),
    413: ("PAYLOAD_TOO_LARGE", "请求体过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "请求体须为 JSON（Content-Type: application/json）"),
    422: ("VALIDATION_FAILED", "请求内容不符合要求"),
    429: ("TOO_MANY_REQUESTS", "请求过多，请稍后再试"),
    500: ("INTERNAL_ERROR", "服务器内部错误，请稍后再试"),
    503: ("SERVICE_UNAVAILABLE", "服务暂时不可用，请稍后再试"),
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}
_FIELD_PART = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


def http_error(status: int) -> tuple[str, str]:
    """The stable code and Chinese message of an HTTP status raised without a more precise one."""
    return _HTTP_MESSAGES.get(status, ("HTTP_ERROR", "请求失败"))


def error_responses(*statuses: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it returns with ErrorBody, plus what any route may answer
    (500; 429 and 503 from overload shedding and a database outage), plus 400/413/415 when it reads a body."""
    every = {*statuses, 429, 500, 503} | ({400, 413, 415, 422} if body else set())
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted(every):
        code, message = http_error(status)
        out[status] = {"model": ErrorBody, "description": f"{code}: {message}"}
        if status in (429, 503):
            out[status]["headers"] = _RETRY_AFTER
    return out


def _field(loc: tuple[Any, ...]) -> str:
    # A client's own key names may land in `loc` (extra fields): never echo anything but a plain name.
    parts = [str(p) if isinstance(p, int) or _FIELD_PART.fullmatch(str(p)) else "?" for p in loc[1:]]
    return ".".join(parts) or str(loc[0]) if loc else "?"


def validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    details = [{"field": _field(tuple(e["loc"])), "type": e["type"], "problem": _PROBLEMS.get(e["type"], "取值不符合要求")}
               for e in errors]
    codes = {_CODES.get(e["type"]) for e in errors}
    only = codes.pop() if len(codes) == 1 else None
    code = only or "VALIDATION_FAILED"
    named = "；".join(f"{d['field']}（{d['problem']}）" for d in details[:5]) + ("等" if len(details) > 5 else "")
    if code == "JSON_INVALID":
        return body(code, "请求体不是有效的 JSON", details)
    return body(code, f"请求内容不符合要求：{named}", details)


class UnexpectedErrors:
    """Innermost safety net: an exception no handler knows becomes a JSON 500 with nothing of the input in it.
    Starlette's own net answers plain text and re-raises; this one logs and answers like every other error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error", extra={"path": scope.get("path"), "method": scope.get("method")})
            if started:  # half a response is out; only the server can end it now
                raise
            await JSONResponse(body(*http_error(500)), status_code=500)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(CalendarYearUnknown)
    async def _calendar(_: Request, exc: CalendarYearUnknown) -> JSONResponse:
        # Not the caller's mistake: county IT must add the year's schedule (deploy/calendar/, runbook).
        log.error("working calendar lacks a year", extra={"year": exc.year})
        return JSONResponse(body(exc.code, exc.message, {"year": exc.year}), status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_body(list(exc.errors())), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(body(*http_error(exc.status_code)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    app.add_middleware(UnexpectedErrors)
