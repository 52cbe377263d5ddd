"""Prometheus metrics every service exposes at GET /metrics, behind typed record_* helpers.

Labels stay small and bounded: service, route template, topic, event type, outcome, loop name,
partition; never a case id, a phone number or a free text. Service-specific metrics live in the
service's own metrics.py.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.events import EVENTS_BY_NAME

disable_created_metrics()  # the *_created series would double the scrape for nothing county IT needs

HTTP_REQUESTS = Counter("bianmin_http_requests", "HTTP requests answered, by route template and status.",
                        ["service", "method", "route", "status"])
HTTP_DURATION = Histogram("bianmin_http_request_duration_seconds", "Time to answer an HTTP request.",
                          ["service", "method", "route"],
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
EVENTS_HANDLED = Counter(
    "bianmin_events_handled", "Events consumed, by outcome: applied, duplicate (seen before), passed_over "
    "(a type this consumer does not handle), dead_lettered.", ["service", "topic", "event_type", "outcome"])
EVENT_RETRIES = Counter("bianmin_event_retries", "Retries of a handler: transient (infrastructure fault, retried "
                        "without limit) or error (counts towards dead-lettering).", ["service", "topic", "kind"])
CONSUME_BATCH_SIZE = Histogram("bianmin_consume_batch_size", "Messages per batch a consumer took (BIANMIN_CONSUME_BATCH "
                               "at most): near 1 when it keeps up, near the maximum while it catches up.",
                               ["service", "topic"], buckets=(1, 5, 25, 100, 250, 500, 1000, 2500))
DEAD_LETTERS = Counter("bianmin_dead_letters", "Messages dead-lettered (kept and sent to <topic>.dlq).",
                       ["service", "topic"])
DEAD_LETTERS_PENDING = Gauge("bianmin_dead_letters_pending", "Dead letters of this service's group not yet re-driven.",
                             ["service"])
CONSUMER_LAG = Gauge("bianmin_consumer_lag", "Messages behind: end offset minus committed offset, per assigned "
                     "partition of this instance.", ["service", "group", "topic", "partition"])
OUTBOX_PUBLISHED = Counter("bianmin_outbox_published", "Outbox rows published to Kafka by this instance's relay.",
                           ["service"])
OUTBOX_BACKLOG = Gauge("bianmin_outbox_backlog", "Outbox rows not yet published (set-aside rows excluded).", ["service"])
OUTBOX_OLDEST_AGE = Gauge("bianmin_outbox_oldest_unpublished_age_seconds",
                          "Age of the oldest unpublished outbox row; 0 when none waits.", ["service"])
OUTBOX_SET_ASIDE = Gauge("bianmin_outbox_set_aside", "Outbox rows Kafka refused for good, waiting for a person.",
                         ["service"])
RELAY_STATE = Gauge("bianmin_relay_state", "1 for the relay's state on this instance, as /readyz reports it.",
                    ["service", "state"])
RELAY_STATES = ("starting", "standby", "active", "waiting_for_kafka", "stuck", "failing")
LOOP_LAST_SUCCESS = Gauge("bianmin_loop_last_success_timestamp_seconds",
                          "When a background loop last completed a round (Unix time).", ["service", "loop"])
LOOP_FAILURES = Counter("bianmin_loop_failures", "Failed rounds of a background loop.", ["service", "loop"])
READY = Gauge("bianmin_service_ready", "1 when GET /readyz would answer 200.", ["service"])
INFO = Gauge("bianmin_service_info", "Always 1; labels name the service and its version.", ["service", "version"])

RECORD_TYPE = "record"  # a keyed state record of a compacted topic (the contacts), not an event
_KNOWN_TYPES = frozenset({*EVENTS_BY_NAME, RECORD_TYPE})


def event_type_label(event_type: str | None) -> str:
    """A header's event type as a label: only known types, so a hostile header adds no series."""
    if event_type is None:
        return "unreadable"
    return event_type if event_type in _KNOWN_TYPES else "other"


def record_http(service: str, method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
    HTTP_DURATION.labels(service, method, route).observe(seconds)


def record_event_handled(service: str, topic: str, event_type: str | None, outcome: str) -> None:
    EVENTS_HANDLED.labels(service, topic, event_type_label(event_type), outcome).inc()


def record_batch(service: str, topic: str, size: int) -> None:
    CONSUME_BATCH_SIZE.labels(service, topic).observe(size)


def record_event_retry(service: str, topic: str, *, transient: bool) -> None:
    EVENT_RETRIES.labels(service, topic, "transient" if transient else "error").inc()


def record_dead_letter(service: str, topic: str) -> None:
    DEAD_LETTERS.labels(service, topic).inc()


def record_published(service: str, rows: int) -> None:
    OUTBOX_PUBLISHED.labels(service).inc(rows)


def record_outbox(service: str, *, backlog: int, oldest_age_seconds: float, set_aside: int) -> None:
    OUTBOX_BACKLOG.labels(service).set(backlog)
    OUTBOX_OLDEST_AGE.labels(service).set(oldest_age_seconds)
    OUTBOX_SET_ASIDE.labels(service).set(set_aside)


def record_dead_letters_pending(service: str, pending: int) -> None:
    DEAD_LETTERS_PENDING.labels(service).set(pending)


def record_relay_state(service: str, state: str) -> None:
    for known in RELAY_STATES:
        RELAY_STATE.labels(service, known).set(1 if known == state else 0)


def record_loop_success(service: str, loop: str) -> None:
    LOOP_LAST_SUCCESS.labels(service, loop).set(time.time())


def record_loop_failure(service: str, loop: str) -> None:
    LOOP_FAILURES.labels(service, loop).inc()


def record_ready(service: str, ready: bool) -> None:
    READY.labels(service).set(1 if ready else 0)


def record_info(service: str, version: str) -> None:
    INFO.labels(service, version).set(1)


LagKey = tuple[str, str, int]  # group, topic, partition
_lag_series: dict[str, set[LagKey]] = {}


def record_consumer_lag(service: str, lags: dict[LagKey, int]) -> None:
    """Sets this service's lag series and drops those of partitions no longer assigned here."""
    for group, topic, partition in _lag_series.get(service, set()) - lags.keys():
        CONSUMER_LAG.remove(service, group, topic, str(partition))
    for (group, topic, partition), lag in lags.items():
        CONSUMER_LAG.labels(service, group, topic, str(partition)).set(lag)
    _lag_series[service] = set(lags)


class HttpMetrics:
    """ASGI middleware: counts and times every HTTP request by its route template (`/api/v1/cases/{case_id}`),
    so an id in the path never becomes a label; paths no route matched count as `unmatched`."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            record_http(self.service, scope["method"], route, status, time.perf_counter() - started)


def install_metrics(app: FastAPI, *, service: str, version: str) -> None:
    """GET /metrics (outside /api/v1 and the OpenAPI document: scraped inside the cluster) and the
    HTTP middleware; add it after every other middleware so it also sees their refusals."""
    record_info(service, version)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(HttpMetrics, service=service)
