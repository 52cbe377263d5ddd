"""Pure ASGI guards in front of every route: a body size limit and JSON-only bodies.

They answer before the app reads anything, so a 200 MB upload costs at most the limit in memory;
what a refused client sends is discarded (up to a bound) so that it reads the 413.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kit.errors import body, http_error, install_error_handlers

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# Before a 413, a body whose declared length is up to this size is read and thrown away (never
# kept), so the client, still sending, reads the answer instead of a reset connection; a bigger or
# chunked one is cut off.
DRAIN_MAX_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 10.0


async def _refuse(status: int, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse(body(*http_error(status)), status_code=status, headers={"Connection": "close"})(
        scope, receive, send)


async def _drain(receive: Receive, *, budget: int) -> None:
    """Read and discard what the client still sends, within `budget` bytes and DRAIN_SECONDS."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while budget > 0:
                message = await receive()
                if message["type"] != "http.request":
                    return
                budget -= len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        return


class _TooLarge(Exception):
    """Raised into the app from `receive` to stop it reading; never leaves the middleware."""


class BodyLimit:
    """413 for a body over `max_bytes`: at once when Content-Length says so, else as soon as the
    streamed chunks (chunked transfer) pass the limit; the rest of the body is never read."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, drain_bytes: int = DRAIN_MAX_BYTES) -> None:
        self.app, self.max_bytes, self.drain_bytes = app, max_bytes, drain_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isascii() or not declared.isdigit()):
            await _refuse(400, scope, receive, send)
            return
        if declared is not None and int(declared) > self.max_bytes:
            if int(declared) <= self.drain_bytes:
                # Before answering: once the answer is complete the server stops reading and closes.
                await _drain(receive, budget=int(declared))
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
            # A chunked body of unknown length is not drained: the connection is closed instead.
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


def install_edge(app: FastAPI, *, max_body_bytes: int, drain_bytes: int = DRAIN_MAX_BYTES) -> None:
    """JSON errors for everything (innermost), then JSON-only bodies, then the size limit (outermost)."""
    install_error_handlers(app)
    app.add_middleware(JsonBodyOnly)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, drain_bytes=drain_bytes)
