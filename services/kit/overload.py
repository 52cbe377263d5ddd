"""Overload answered at once: a bound on requests in flight, and a database that is busy or down
answered with 503 + Retry-After in JSON instead of a long wait or a plain-text 500.
"""

from __future__ import annotations

import asyncio
import json
import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.kit.errors import body
from services.kit.faults import describe, fault_class

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes answer even when business is full
OVERLOADED = ("OVERLOADED", "系统繁忙，请稍后重试")
DATABASE_UNAVAILABLE = ("DATABASE_UNAVAILABLE", "数据库暂时无法访问，请稍后重试")
DATABASE_BUSY = ("DATABASE_BUSY", "系统繁忙，数据库连接已满，请稍后重试")


class InFlightLimit:
    """ASGI middleware: at most `limit` HTTP requests of this process in flight; one more waits up to
    `wait` seconds for a slot, then gets 503 OVERLOADED with Retry-After."""

    def __init__(self, app: ASGIApp, *, limit: int, wait: float = 0.0, exempt: frozenset[str] = EXEMPT_PATHS) -> None:
        self.app, self.limit, self.wait, self.exempt = app, limit, wait, exempt
        self._slots = asyncio.Semaphore(limit)
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if not await self._admitted():
            self.refused += 1
            await _refuse(send, 503, OVERLOADED)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

    async def _admitted(self) -> bool:
        if not self._slots.locked():
            await self._slots.acquire()  # free slot: returns without yielding to other requests
            return True
        if self.wait <= 0:
            return False
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except TimeoutError:
            return False
        return True


async def _refuse(send: Send, status: int, problem: tuple[str, str]) -> None:
    payload = json.dumps(body(*problem), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]})
    await send({"type": "http.response.body", "body": payload})


def unavailable(problem: tuple[str, str]) -> JSONResponse:
    return JSONResponse(body(*problem), status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# Where the database's errors are looked at; which of them mean "not now" is faults.fault_class,
# the same rule the consumers retry by.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def install_overload_handlers(app: FastAPI) -> None:
    """Database down, restarting, read-only or out of connections -> 503 DATABASE_UNAVAILABLE; pool
    exhausted past its acquire timeout -> 503 DATABASE_BUSY. Any other database error is a bug: 500."""

    async def _down(request: Request, exc: Exception) -> JSONResponse:
        fault = fault_class(exc)
        if fault is None:
            raise exc  # not the database being unavailable: the catch-all answers 500
        log.warning("database unavailable", extra={"path": request.url.path, "fault": fault,
                                                   "error": describe(exc)})
        return unavailable(DATABASE_UNAVAILABLE)

    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        log.warning("no database connection in time", extra={"path": request.url.path})
        return unavailable(DATABASE_BUSY)

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _down)
    app.add_exception_handler(TimeoutError, _busy)
