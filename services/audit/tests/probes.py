"""Kafka and HTTP helpers of audit's integration tests: publish real envelopes, wait for history."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

import httpx

from contracts.envelope import Envelope
from services.kit.testing import auth_header, eventually, publish_events, running_app, start_group_at_end

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


@asynccontextmanager
async def audit_with_one_case(infra, make_database, name: str, **settings: Any):
    """A fresh audit (its own database and consumer group) that has recorded three events of one
    case: yields (client, owner DSN, the case's records in seq order, runtime).

    The events arrive on three topics, so their seq order is not their publishing order."""
    from services.audit.app import create_app
    from services.audit.settings import AuditSettings
    from services.audit.tests.builders import assigned, completed, submitted

    dsn = await make_database(name)
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    app = create_app(AuditSettings(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                                   BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, **settings))
    async with running_app(app) as client:
        case_id = uuid4()
        events = [submitted(case_id), assigned(case_id, version=1), completed(case_id, version=2)]
        await publish(infra.kafka_bootstrap, events)
        records = sorted(only(await history_of(client, case_id, events), events), key=lambda e: e["seq"])
        yield client, dsn, records, app.state.runtime
