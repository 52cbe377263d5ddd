"""Kafka and HTTP helpers of audit's integration tests: publish real envelopes, wait for history."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx

from contracts.envelope import Envelope
from services.kit.testing import auth_header, eventually, publish_events

INSPECTOR = auth_header("inspector", None, sub="inspector-01")


def new_traceparent() -> tuple[str, str]:
    """(traceparent header, its trace id)."""
    trace_id = uuid4().hex
    return f"00-{trace_id}-{uuid4().hex[:16]}-01", trace_id


async def publish(bootstrap: str, events: list[Envelope], *, traceparent: str | None = None) -> None:
    await publish_events(bootstrap, *events, extra_headers={"traceparent": traceparent} if traceparent else None)


async def history_of(client: httpx.AsyncClient, case_id: UUID, events: list[Envelope], *,
                     timeout: float = 30.0) -> dict:
    """The case's history once it holds every one of `events`."""
    wanted = {str(e.event_id) for e in events}

    async def probe():
        resp = await client.get(f"/api/v1/cases/{case_id}/history", headers=INSPECTOR)
        return resp.json() if resp.status_code == 200 and wanted <= {e["event_id"] for e in resp.json()["events"]} else None

    return await eventually(probe, timeout=timeout, what=f"{len(wanted)} events of case {case_id} in the audit history")


def only(history: dict, events: list[Envelope]) -> list[dict]:
    """This test's own events of a history: other services on the shared Kafka react to them
    (routing assigns a submitted case, notify texts), adding events of their own to the case."""
    ours = {str(e.event_id) for e in events}
    return [e for e in history["events"] if e["event_id"] in ours]


def gaps_of(history: dict, *sources: str) -> list[dict]:
    return [g for g in history["gaps"] if g["source"] in sources]


async def integrity(client: httpx.AsyncClient) -> dict:
    resp = await client.get("/api/v1/integrity", headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    return resp.json()
