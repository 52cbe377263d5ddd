"""The in-flight bound as plain ASGI: one more request than the bound is refused at once, probes never."""

from __future__ import annotations

import asyncio
import json

import pytest

from services.kit.overload import InFlightLimit

pytestmark = pytest.mark.unit


class Gate:
    """An ASGI app whose requests stay in flight until the gate opens."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.inside = 0

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        await self.open.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app, path: str = "/api/v1/cases") -> tuple[int, dict, bytes]:
    sent: list[dict] = []

    async def send(message) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "method": "POST"}, None, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, sent[1]["body"]


async def test_requests_beyond_the_bound_get_503_with_retry_after_while_probes_pass():
    gate = Gate()
    app = InFlightLimit(gate, limit=3, wait=0.0)
    admitted = [asyncio.create_task(call(app)) for _ in range(3)]
    while gate.inside < 3:
        await asyncio.sleep(0)
    status, headers, payload = await call(app)
    assert (status, headers["retry-after"], json.loads(payload)["code"]) == (503, "2", "OVERLOADED")
    assert "繁忙" in json.loads(payload)["message"]
    probe = asyncio.create_task(call(app, "/readyz"))
    while gate.inside < 4:
        await asyncio.sleep(0)
    gate.open.set()
    assert [r[0] for r in await asyncio.gather(*admitted, probe)] == [200, 200, 200, 200]
    assert (await call(app))[0] == 200 and app.refused == 1  # slots were given back
