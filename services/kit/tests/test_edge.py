"""Every refusal before a route runs is JSON with a stable code; big bodies stop being read at the limit."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from services.kit.edge import install_edge
from services.kit.errors import ErrorBody, error_responses
from services.kit.fields import ShortText

pytestmark = pytest.mark.unit
LIMIT = 1024


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: ShortText = ""


def _app(*, drain_bytes: int = 0) -> FastAPI:
    app = FastAPI()
    install_edge(app, max_body_bytes=LIMIT, drain_bytes=drain_bytes)

    @app.post("/x", responses=error_responses(body=True))
    async def x(body: Body) -> dict:
        return {"comment": body.comment}

    @app.get("/boom")
    async def boom(secret: str = "") -> dict:
        raise RuntimeError(f"leaked {secret}")

    return app


def _client(app: FastAPI | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app or _app()), base_url="http://test")


def _json_error(resp: httpx.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    data = resp.json()
    assert data["code"] == code and data["message"] and not data["message"].isascii()
    return data


async def test_a_body_under_the_limit_goes_through():
    async with _client() as client:
        resp = await client.post("/x", json={"comment": "好"})
    assert resp.status_code == 200 and resp.json() == {"comment": "好"}


async def test_malformed_json_and_bad_utf8_are_json_errors():
    async with _client() as client:
        broken = await client.post("/x", content=b'{"comment": ', headers={"content-type": "application/json"})
        latin = await client.post("/x", content=b'{"comment": "\xff\xfe"}', headers={"content-type": "application/json"})
    _json_error(broken, 422, "JSON_INVALID")
    _json_error(latin, 400, "BAD_REQUEST")


async def test_wrong_content_type_unknown_path_and_method():
    async with _client() as client:
        _json_error(await client.post("/x", content=b"comment=1", headers={"content-type": "text/plain"}),
                    415, "UNSUPPORTED_MEDIA_TYPE")
        _json_error(await client.get("/nope"), 404, "NOT_FOUND")
        _json_error(await client.delete("/x"), 405, "METHOD_NOT_ALLOWED")


async def test_an_unexpected_exception_is_a_json_500_without_the_input():
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.get("/boom", params={"secret": "s3cr3t-input"})
    _json_error(resp, 500, "INTERNAL_ERROR")
    assert "s3cr3t" not in resp.text and "Traceback" not in resp.text


async def test_a_declared_length_over_the_limit_is_refused_unread():
    pulled = 0

    async def body():
        nonlocal pulled
        for _ in range(100):
            pulled += 1
            yield b"x" * LIMIT

    async with _client() as client:
        resp = await client.post("/x", content=body(), headers={"content-type": "application/json",
                                                                 "content-length": str(100 * LIMIT)})
    _json_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert pulled == 0


async def test_a_streamed_body_stops_being_read_at_the_limit():
    pulled = 0

    async def chunks():
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield b" " * 512

    async with _client() as client:  # no Content-Length: chunked
        resp = await client.post("/x", content=chunks(), headers={"content-type": "application/json"})
    _json_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert pulled <= LIMIT // 512 + 1


async def test_after_a_413_the_rest_of_a_bounded_body_is_discarded_so_the_client_reads_the_answer():
    """Like a server's lingering close: what the client still sends is read and dropped, never kept
    and never given to the route; a body past the drain bound is not read at all."""
    pulled = 0

    async def body(chunks: int):
        nonlocal pulled
        for _ in range(chunks):
            pulled += 1
            yield b"x" * LIMIT

    transport = httpx.ASGITransport(app=_app(drain_bytes=200 * LIMIT))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        within = await client.post("/x", content=body(100), headers={"content-type": "application/json",
                                                                      "content-length": str(100 * LIMIT)})
        _json_error(within, 413, "PAYLOAD_TOO_LARGE")
        assert pulled == 100
        pulled = 0
        beyond = await client.post("/x", content=body(300), headers={"content-type": "application/json",
                                                                      "content-length": str(300 * LIMIT)})
        _json_error(beyond, 413, "PAYLOAD_TOO_LARGE")
        assert pulled == 0


def test_error_responses_document_the_error_body_everywhere():
    responses = error_responses(404, body=True)
    assert set(responses) == {400, 404, 413, 415, 422, 429, 500, 503}
    assert all(r["model"] is ErrorBody for r in responses.values())
    assert "Retry-After" in responses[429]["headers"] and "Retry-After" in responses[503]["headers"]
    assert set(error_responses()) == {429, 500, 503}


async def test_a_client_key_is_never_echoed_and_mixed_problems_are_validation_failed():
    async with _client() as client:
        odd_key = await client.post("/x", json={"comment": "好", "\u0000<script>": 1})
        mixed = await client.post("/x", json={"comment": "a\u0000", "extra": 1})
        unsafe = await client.post("/x", json={"comment": "a\u202e"})
    data = _json_error(odd_key, 422, "VALIDATION_FAILED")
    assert "<script>" not in odd_key.text and "\\u0000" not in odd_key.text and data["details"][0]["field"] == "?"
    assert {d["type"] for d in _json_error(mixed, 422, "VALIDATION_FAILED")["details"]} == {
        "text_control_char", "extra_forbidden"}
    assert "comment" in _json_error(unsafe, 422, "TEXT_UNSAFE_CHARACTER")["message"]
