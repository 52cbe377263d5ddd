"""Each service's GET /metrics while a case goes through its whole life: the counters move, and at the
end nothing waits (lag 0, outbox empty), the loops report rounds and the audit chain is valid."""

from __future__ import annotations

import httpx
import pytest

from contracts.topics import INTAKE_CASES, NOTIFY_CASES, ROUTING_CASES
from deploy.services import SERVICES
from services.kit.testing import eventually
from tests import scenario
from tests.scrape import Samples, scrape, series, value

pytestmark = pytest.mark.e2e

LOOPS = {"intake": ["outbox-relay", "metrics-refresh"], "routing": ["outbox-relay", "metrics-refresh", "deadline-scanner"],
         "notify": ["outbox-relay", "metrics-refresh", "sms-sender"],
         "audit": ["outbox-relay", "metrics-refresh", "audit-chain-check"]}
CONSUMES = {"routing": [INTAKE_CASES], "notify": [INTAKE_CASES, ROUTING_CASES],
            "audit": [INTAKE_CASES, ROUTING_CASES, NOTIFY_CASES]}


async def scrape_all(http) -> dict[str, Samples]:
    return {name: await scrape(http.client, http.system[name].url) for name in SERVICES}


def applied(samples: Samples, service: str, topic: str, event_type: str) -> float:
    return value(samples, "bianmin_events_handled_total", service=service, topic=topic, event_type=event_type,
                 outcome="applied")


async def test_metrics_move_with_a_case_and_settle_at_zero(http):
    before = await scrape_all(http)
    created = await scenario.submit(http, seed=71)
    case_id = created["case_id"]
    await scenario.transfer(http, case_id)
    await scenario.complete(http, case_id)
    await scenario.rate(http, case_id)
    await scenario.history_with(http, case_id, scenario.LIFECYCLE + ["NotificationSent"] * 2)

    async def settled() -> dict[str, Samples] | None:
        now = await scrape_all(http)
        for name, samples in now.items():
            if value(samples, "bianmin_consumer_lag", service=name) != 0 \
                    or value(samples, "bianmin_outbox_backlog", service=name) != 0:
                return None
            if any(value(samples, "bianmin_loop_last_success_timestamp_seconds", service=name, loop=loop)
                   <= value(before[name], "bianmin_loop_last_success_timestamp_seconds", service=name, loop=loop)
                   for loop in LOOPS[name]):
                return None
        return now

    after = await eventually(settled, timeout=60, what="lag and outbox back to 0, every loop past another round")

    def moved(where: str, name: str, /, **labels: str) -> float:
        return value(after[where], name, **labels) - value(before[where], name, **labels)

    # HTTP: by route template, never by case id.
    assert moved("intake", "bianmin_http_requests_total", service="intake", method="POST", route="/api/v1/cases",
                 status="201") >= 1
    assert moved("routing", "bianmin_http_requests_total", service="routing", method="POST",
                 route="/api/v1/cases/{case_id}/complete", status="200") >= 1
    assert moved("intake", "bianmin_http_request_duration_seconds_count", service="intake", method="POST",
                 route="/api/v1/cases") >= 1
    assert not any(case_id in labels.get("route", "") for labels in series(after["audit"], "bianmin_http_requests_total"))

    # Events handled, per topic and type; the audit log takes each of the case's events once.
    assert moved("routing", "bianmin_events_handled_total", service="routing", topic=INTAKE_CASES,
                 event_type="CaseSubmitted", outcome="applied") >= 1
    assert moved("notify", "bianmin_events_handled_total", service="notify", topic=ROUTING_CASES,
                 event_type="CaseCompleted", outcome="applied") >= 1
    for topic, event_type in [(INTAKE_CASES, "CaseSubmitted"), (INTAKE_CASES, "CaseRated"),
                              (ROUTING_CASES, "CaseAssigned"), (ROUTING_CASES, "CaseTransferred"),
                              (NOTIFY_CASES, "NotificationSent")]:
        assert applied(after["audit"], "audit", topic, event_type) > applied(before["audit"], "audit", topic, event_type)
    assert moved("intake", "bianmin_outbox_published_total", service="intake") >= 2  # submitted, rated

    # Lag is reported for every partition each consumer holds, and is 0 now.
    for name, topics in CONSUMES.items():
        lag_topics = {s["topic"] for s in series(after[name], "bianmin_consumer_lag")}
        assert set(topics) <= lag_topics, f"{name} reports no lag for {set(topics) - lag_topics}"

    assert moved("notify", "bianmin_sms_sent_total", provider="dev") >= 2  # accepted, completed
    for name in SERVICES:
        assert value(after[name], "bianmin_service_ready", service=name) == 1
        assert value(after[name], "bianmin_relay_state", service=name, state="active") == 1
        assert value(after[name], "bianmin_dead_letters_pending", service=name) == 0
        assert value(after[name], "bianmin_outbox_oldest_unpublished_age_seconds", service=name) == 0
        assert value(after[name], "bianmin_service_info", service=name) == 1
    assert value(after["audit"], "bianmin_audit_chain_valid") == 1
    assert value(after["audit"], "bianmin_audit_chain_verified_records") >= 7
    assert value(after["audit"], "bianmin_audit_checkpoint_refused") == 0


async def test_metrics_endpoint_is_outside_the_api_and_its_document(http):
    async with httpx.AsyncClient(timeout=10) as client:
        for name in SERVICES:
            resp = await client.get(f"{http.system[name].url}/metrics")  # no token: scraped inside the cluster
            assert resp.status_code == 200 and "bianmin_service_info" in resp.text
            paths = (await client.get(f"{http.system[name].url}/openapi.json")).json()["paths"]
            assert "/metrics" not in paths
