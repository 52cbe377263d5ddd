"""OpenTelemetry wiring shared by the services: one tracer provider, W3C context in Kafka headers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind


def setup_tracing(service_name: str) -> TracerProvider:
    """A provider per process; spans go to OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    provider = TracerProvider(resource=Resource.create({"service.name": f"bianmin-{service_name}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, stored with each outbox row."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def trace_id_of(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else None


@contextmanager
def continued_from(traceparent: str | None) -> Iterator[None]:
    """Make the stored trace context current, so the publish span joins the original trace."""
    if not traceparent:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        context.detach(token)


def processing_span(traceparent: str | None, topic: str) -> Span:
    """A consumer span for one message handled in a batch, child of the span that published it.

    FastStream opens one span for a whole batch, in a trace of its own; without this, a case's
    trace would end at the publish and never show who consumed the event. Not made current: a
    batch handler ends the spans of all its messages once the batch is applied.
    """
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else None
    return trace.get_tracer(__name__).start_span(f"{topic} process", context=parent, kind=SpanKind.CONSUMER)


@contextmanager
def processing(traceparent: str | None, topic: str) -> Iterator[None]:
    """`processing_span`, made current while one message's handler runs: what it appends (and the
    relay later publishes) joins the event's trace."""
    with trace.use_span(processing_span(traceparent, topic), end_on_exit=True):
        yield
