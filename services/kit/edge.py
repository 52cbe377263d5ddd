"""Pure ASGI guards in front of every route: a body size limit and JSON-only bodies.

They answer before the app reads anything, so a 200 MB upload costs at most the limit in memory.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kit.errors import body, http_error, install_error_handlers

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


async def _refuse(status: int, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse(body(*http_error(status)), status_code=status, headers={"Connection": "close"})(
        scope, receive, send)


class _TooLarge(Exception):
    """Raised into the app from `receive` to stop it reading; never leaves the middleware."""


class BodyLimit:
    """413 for a body over `max_bytes`: at once when Content-Length says so, else as soon as the
    streamed chunks (chunked transfer) pass the limit; the rest of the body is never read."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isascii() or not declared.isdigit()):
            await _refuse(400, scope, receive, send)
            return
        if declared is not None and int(declared) > self.max_bytes:
            await _refuse(413, scope, receive, send)
            return
        await self._counting(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        received, refused, started = 0, False, False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused and not started:  # the app's answer to the aborted read (FastAPI makes it a 400) is dropped
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if refused and not started:
            await _refuse(413, scope, receive, send)


class JsonBodyOnly:
    """415 for a non-empty body that is not declared JSON: every route of the services reads JSON only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _WITH_BODY:
            headers = Headers(scope=scope)
            has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if has_body and not (media == "application/json" or media.endswith("+json")):
                await _refuse(415, scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_edge(app: FastAPI, *, max_body_bytes: int) -> None:
    """JSON errors for everything (innermost), then JSON-only bodies, then the size limit (outermost)."""
    install_error_handlers(app)
    app.add_middleware(JsonBodyOnly)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
