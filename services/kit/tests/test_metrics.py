"""The kit's metric helpers: bounded labels, route templates, series of partitions that moved away."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from services.kit.metrics import HttpMetrics, event_type_label, record_consumer_lag, record_relay_state

pytestmark = pytest.mark.unit


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_only_known_event_types_become_labels():
    assert event_type_label("CaseSubmitted") == "CaseSubmitted"
    assert event_type_label("<script>" * 10) == "other"
    assert event_type_label(None) == "unreadable"


async def test_requests_are_counted_by_route_template_never_by_path():
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "boom":
            raise RuntimeError("unexpected")
        return {"id": thing_id}

    app.add_middleware(HttpMetrics, service="unit")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/things/a", "/things/b", "/nowhere", "/things/boom"):
            await client.get(path)
    assert sample("bianmin_http_requests_total", service="unit", method="GET", route="/things/{thing_id}",
                  status="200") == 2
    assert sample("bianmin_http_requests_total", service="unit", method="GET", route="unmatched", status="404") == 1
    assert sample("bianmin_http_requests_total", service="unit", method="GET", route="/things/{thing_id}",
                  status="500") == 1
    assert sample("bianmin_http_request_duration_seconds_count", service="unit", method="GET",
                  route="/things/{thing_id}") == 3


def test_lag_of_a_partition_that_moved_to_another_instance_is_dropped():
    record_consumer_lag("unit", {("g", "t", 0): 5, ("g", "t", 1): 0})
    record_consumer_lag("unit", {("g", "t", 1): 2})
    assert sample("bianmin_consumer_lag", service="unit", group="g", topic="t", partition="0") is None
    assert sample("bianmin_consumer_lag", service="unit", group="g", topic="t", partition="1") == 2


def test_relay_state_is_one_of_its_states():
    record_relay_state("unit", "standby")
    record_relay_state("unit", "active")
    assert sample("bianmin_relay_state", service="unit", state="active") == 1
    assert sample("bianmin_relay_state", service="unit", state="standby") == 0
