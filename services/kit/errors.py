"""API errors: a stable English `code` and a Chinese `message` on every failure."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.errors import DomainError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers


def body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        out["details"] = details
    return out


# Chinese wording for pydantic's error types; `type` stays in the answer as the stable code.
_PROBLEMS = {
    "missing": "缺少必填字段", "extra_forbidden": "不允许的字段", "string_too_short": "内容过短",
    "string_too_long": "内容过长", "string_type": "应为文本", "int_parsing": "应为整数", "int_type": "应为整数",
    "greater_than_equal": "数值过小", "less_than_equal": "数值过大", "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内", "uuid_parsing": "不是有效的编号", "uuid_type": "不是有效的编号",
    "list_type": "应为列表", "json_invalid": "请求体不是有效的 JSON", "model_attributes_type": "应为对象",
    "dict_type": "应为对象", "bool_parsing": "应为是或否",
}

_HTTP_MESSAGES = {404: ("NOT_FOUND", "请求的资源不存在"), 405: ("METHOD_NOT_ALLOWED", "不支持该请求方法")}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(p) for p in e["loc"][1:]), "type": e["type"],
                    "problem": _PROBLEMS.get(e["type"], "取值不符合要求")} for e in exc.errors()]
        return JSONResponse(body("VALIDATION_FAILED", "请求内容不符合要求，请检查标出的字段", details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_MESSAGES.get(exc.status_code, ("HTTP_ERROR", "请求失败"))
        return JSONResponse(body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))
