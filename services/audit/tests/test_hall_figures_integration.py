"""Hall figures on real Kafka and PostgreSQL: ticket events chained, projected, and figured per township."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.envelope import Actor
from contracts.events import (
    ServiceEnded,
    ServiceEndedPayload,
    ServiceStarted,
    ServiceStartedPayload,
    TicketCalled,
    TicketCalledPayload,
    TicketIssued,
    TicketIssuedPayload,
)
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.builders import _envelope
from services.audit.tests.probes import INSPECTOR, publish
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration
TOWNSHIP = f"hf{uuid.uuid4().hex[:8]}"
HEAD = auth_header("centre_head", TOWNSHIP, sub="head-hf")
MONDAY_9 = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 09:05 in Beijing


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_hall_figures"),
                             KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix,
                             target_wait_minutes=15)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


def _visit(n: int, *, served: bool = True) -> list:
    ticket, issued = uuid4(), MONDAY_9 + timedelta(minutes=2 * n)
    staff = Actor(kind="staff", id="hf-window-01")

    def event(cls, payload, version):
        return _envelope(cls, ticket, source="intake", version=version, payload=payload, township=TOWNSHIP,
                         minutes=version, actor=staff)

    events = [event(TicketIssued, TicketIssuedPayload(ticket_no=f"A{n:03d}", queue="civil_affairs", issued_at=issued), 1),
              event(TicketCalled, TicketCalledPayload(ticket_no=f"A{n:03d}", window_no="1", staff_id=staff.id,
                                                      wait_seconds=600), 2)]
    if served:
        events += [event(ServiceStarted, ServiceStartedPayload(ticket_no=f"A{n:03d}", window_no="1", staff_id=staff.id,
                                                               wait_seconds=600 + 60 * n), 3),
                   event(ServiceEnded, ServiceEndedPayload(ticket_no=f"A{n:03d}", outcome="served",
                                                           service_seconds=900), 4)]
    else:
        events.append(event(ServiceEnded, ServiceEndedPayload(ticket_no=f"A{n:03d}", outcome="no_show",
                                                              service_seconds=0), 3))
    return events


async def test_visits_are_figured_and_staffed_for_the_township(audit, infra):
    client, runtime = audit
    visits = [_visit(n) for n in range(10)] + [_visit(10, served=False)]
    await publish(infra.kafka_bootstrap, [e for v in visits for e in v])
    params = {"township_id": TOWNSHIP, "from": "2026-11-01", "to": "2026-11-30"}

    async def figured():
        resp = await client.get("/api/v1/hall-figures", params=params, headers=INSPECTOR)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        return body if body["total"]["served"] == 10 and body["total"]["no_show"] == 1 else None

    body = await eventually(figured, what="eleven visits figured")
    assert body["total"]["visitors"] == 11 and body["total"]["wait"]["p50"] == 600 + 60 * 4.5
    assert [(m["key"], m["label"]) for m in body["by_month"]] == [("2026-11", "2026年11月")]
    assert [w["key"] for w in body["by_week"]] == ["2026-W48"]
    assert [(h["hour"], h["visitors"]) for h in body["by_hour"]] == [(9, 11)]
    [slot] = body["staffing"]
    # 11 an hour, 15 minutes each: 2.75 Erlangs, and four windows keep the expected wait under 15 minutes.
    assert (slot["weekday_name"], slot["hour"], slot["arrivals_per_hour"], slot["windows"]) == ("星期一", 9, 11.0, 4)
    assert slot["expected_wait_minutes"] <= 15 and body["staffing_by_month"][0]["month"] == "2026-11"

    heads = await client.get("/api/v1/hall-figures", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=HEAD)
    assert heads.status_code == 200 and heads.json()["total"]["visitors"] == 11

    async def recorded():
        async with runtime.pool.acquire() as conn:
            count = await conn.fetchval("SELECT count(*) FROM audit_log WHERE event_type = 'AuditQueried'"
                                        " AND township_id = $1 AND (envelope::jsonb) -> 'payload' ->> 'query' ="
                                        " 'hall_figures'", TOWNSHIP)
        return count if count >= 2 else None  # eventually waits for a truthy answer: 1 would end the wait
    assert await eventually(recorded, what="the hall figures' reads in the chain") >= 2


async def test_hall_figures_are_guarded_and_check_their_period(audit):
    client, _ = audit
    span = {"from": "2026-11-01", "to": "2026-11-30"}
    staff = await client.get("/api/v1/hall-figures", params={"township_id": TOWNSHIP, **span},
                             headers=auth_header("staff", TOWNSHIP, sub="hf-window-01"))
    assert staff.status_code == 403 and staff.json()["code"] == "ROLE_FORBIDDEN"
    other = await client.get("/api/v1/hall-figures", params={"township_id": TOWNSHIP, **span},
                             headers=auth_header("centre_head", "qingshui", sub="head-qs"))
    assert other.status_code == 403 and other.json()["code"] == "TOWNSHIP_FORBIDDEN"
    county = await client.get("/api/v1/hall-figures", params=span, headers=INSPECTOR)
    assert county.status_code == 422 and county.json()["code"] == "TOWNSHIP_REQUIRED"
    reversed_ = await client.get("/api/v1/hall-figures", params={"township_id": TOWNSHIP, "from": "2026-11-30",
                                                                 "to": "2026-11-01"}, headers=INSPECTOR)
    assert reversed_.status_code == 422 and reversed_.json()["code"] == "PERIOD_REVERSED"
    missing = await client.get("/api/v1/hall-figures", params={"township_id": TOWNSHIP}, headers=INSPECTOR)
    assert missing.status_code == 422 and "from" in missing.json()["message"]
