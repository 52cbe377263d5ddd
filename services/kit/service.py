"""Builds a service process: FastAPI + FastStream Kafka broker + pool + relay in one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.specification import AsyncAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pydantic import Field

from contracts.envelope import Envelope
from services.kit import admin, eventstore, shutdown
from services.kit.auth import verifier_from
from services.kit.clock import Clock, clock_from
from services.kit.db import apply_migrations, create_pool
from services.kit.edge import install_edge
from services.kit.errors import error_responses
from services.kit.inbox import Inbox, RetryPolicy
from services.kit.metrics import install_metrics
from services.kit.metrics_refresh import Refresh, refresh_loop
from services.kit.outbox import OutboxRelay
from services.kit.overload import InFlightLimit, install_overload_handlers
from services.kit.readiness import ReadinessProbe
from services.kit.settings import ServiceSettings
from services.kit.telemetry import setup_tracing
from services.kit.topics import require_topics, service_topics

log = logging.getLogger(__name__)

BackgroundTask = Callable[["Runtime[Any, Any]"], Coroutine[Any, Any, None]]
# Given the owner's pool, after migrations: the DSN the service runs as (audit: a role that may
# only insert and read its log). Without it the service runs as the owner.
RuntimeDatabase = Callable[[asyncpg.Pool], Awaitable[str]]
S = TypeVar("S", bound=ServiceSettings)
D = TypeVar("D")


@dataclass
class Runtime(Generic[S, D]):
    """Everything a service's handlers need at run time, created in lifespan; `settings` and `deps`
    are the service's own typed settings and dependencies (each service names its Runtime alias)."""

    name: str
    settings: S
    clock: Clock
    broker: KafkaBroker
    inbox: Inbox
    deps: D
    _pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database pool is opened in the service's lifespan")
        return self._pool

    @pool.setter
    def pool(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
    relay: OutboxRelay | None = None


def make_broker(settings: ServiceSettings, name: str) -> KafkaBroker:
    tracer_provider = setup_tracing(name)
    return KafkaBroker(
        settings.kafka_servers, client_id=f"bianmin-{name}",
        security=settings.kafka_security.faststream(),  # the service's own Kafka user (its ACLs: deploy/kafka_acls.py)
        acks="all", enable_idempotence=True,  # aiokafka defaults to acks=1 without idempotence
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        graceful_timeout=shutdown.KAFKA_DRAIN_SECONDS,
        log_level=logging.DEBUG,  # FastStream logs every message received/processed at this level
    )


def declare_publishers(broker: KafkaBroker, events: list[type[Envelope]]) -> dict[str, Any]:
    """One publisher per topic, listing the event types it carries, for the AsyncAPI document; the
    relay sends through them."""
    by_topic: dict[str, list[type[Envelope]]] = {}
    for cls in events:
        by_topic.setdefault(cls.TOPIC, []).append(cls)
    publishers = {}
    for topic, classes in by_topic.items():
        union = functools.reduce(operator.or_, classes)  # CaseAssigned | CaseTransferred | ...
        schema = classes[0] if len(classes) == 1 else Annotated[union, Field(discriminator="event_type")]
        description = "Events, keyed by case id, `event_type` in a header: " + "; ".join(
            f"{c.__name__}: {(c.__doc__ or '').strip().splitlines()[0]}" for c in classes)
        publishers[topic] = broker.publisher(topic, schema=schema, description=description, title=topic)
    return publishers


def create_service(
    *, name: str, settings: ServiceSettings, version: str, description: str, service_dir: Path,
    runtime: Runtime[Any, Any], publishes: list[type[Envelope]], routers: list[Any],
    background: Sequence[BackgroundTask] = (), on_start: Sequence[BackgroundTask] = (),
    runtime_database: RuntimeDatabase | None = None, metrics_refresh: Sequence[Refresh] = (),
) -> FastAPI:
    publishers = declare_publishers(runtime.broker, publishes)

    async def publish(*, topic: str, body: bytes, key: bytes, headers: dict[str, str]) -> Any:
        return await publishers[topic].publish(body, key=key, headers=headers, no_confirm=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        eventstore.set_max_event_bytes(settings.max_event_bytes)
        eventstore.set_notify_interval(settings.outbox_notify_seconds)
        dsn = await _open_database(runtime, service_dir, runtime_database)
        runtime.inbox.pool = runtime.pool
        for hook in on_start:
            await hook(runtime)
        kafka = await _start_kafka(runtime, settings)
        runtime.relay = OutboxRelay(dsn=dsn, schema=name, publish=publish, poll_interval=settings.relay_poll_seconds)
        runtime.relay.start()
        probe.relay = runtime.relay
        tasks: list[asyncio.Task[None]] = [asyncio.create_task(task(runtime), name=f"{name}-{task.__name__}")
                                           for task in background]
        tasks.append(asyncio.create_task(refresh_loop(runtime, probe, interval=settings.metrics_refresh_seconds,
                                                      extra=metrics_refresh), name=f"{name}-metrics-refresh"))
        if kafka is not None:
            tasks.append(kafka)
        log.info("service started", extra={"service": name, "port": settings.port})
        try:
            yield
        finally:
            await _shut_down(runtime, probe, tasks)

    app = FastAPI(title=f"bianmin {name}", version=version, description=description, lifespan=lifespan)
    app.state.runtime = runtime
    probe = ReadinessProbe(dsn=settings.database_url, schema=name, broker=runtime.broker,
                           stuck_after=settings.relay_stuck_seconds,
                           failures_tolerated=settings.relay_failures_tolerated)
    app.state.readiness = probe
    app.state.jwt_verifier = verifier_from(settings)  # before anything starts: unsafe settings refuse here
    install_edge(app, max_body_bytes=settings.max_body_bytes)
    install_overload_handlers(app)
    asyncapi = AsyncAPI(runtime.broker, title=f"bianmin {name}", version=version, description=description)

    @app.get("/healthz", tags=["health"], summary="Process is alive", responses=error_responses())
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz", tags=["health"],
             summary="Serves HTTP: database answers, relay not stuck (Kafka reported, not required)",
             responses={**error_responses(), 503: {"description": "Not ready: the same body, status not_ready"}})
    async def readyz() -> JSONResponse:
        ready, report = await probe.check()
        return JSONResponse(report, status_code=200 if ready else 503,
                            headers=None if ready else {"Retry-After": "5"})

    @app.get("/asyncapi", tags=["docs"], summary="AsyncAPI document of this service's topics",
             responses=error_responses())
    async def asyncapi_doc() -> JSONResponse:
        return JSONResponse(asyncapi.to_specification().to_jsonable())

    for router in [*routers, admin.router]:
        app.include_router(router)
    # Without the ASGI receive/send spans: three spans per request that say nothing a county reads.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
    app.add_middleware(InFlightLimit, limit=settings.max_in_flight, wait=settings.in_flight_wait_seconds)
    install_metrics(app, service=name, version=version)  # outermost: also counts the 503s of the limit
    return app


async def _shut_down(runtime: Runtime[Any, Any], probe: ReadinessProbe, tasks: list[asyncio.Task[None]]) -> None:
    """Each step bounded (services.kit.shutdown), in the order they depend on each other."""
    for t in tasks:
        t.cancel()
    await shutdown.bounded("background loops", asyncio.gather(*tasks, return_exceptions=True))
    await shutdown.bounded("readiness probe", probe.close())  # after the metrics loop, which asks the probe too
    if runtime.relay is not None:
        await shutdown.bounded("outbox relay", runtime.relay.stop())
    await shutdown.bounded("consumer offsets", runtime.inbox.close())
    await shutdown.bounded("kafka broker", runtime.broker.stop(), seconds=shutdown.KAFKA_STOP_SECONDS)
    if not await shutdown.bounded("database pool", runtime.pool.close()):
        runtime.pool.terminate()  # a connection still held by an abandoned step


async def _open_database(runtime: Runtime[Any, Any], service_dir: Path, runtime_database: RuntimeDatabase | None) -> str:
    """Migrates as the owner, then opens the service's pool as the role it runs as; its DSN."""
    settings = runtime.settings
    owner = await create_pool(settings.database_url, runtime.name,
                              max_size=2 if runtime_database else settings.db_pool_max,
                              acquire_timeout=None if runtime_database else settings.db_acquire_timeout)
    await apply_migrations(owner, runtime.name, service_dir)
    if runtime_database is None:
        runtime.pool = owner
        return settings.database_url
    try:
        dsn = await runtime_database(owner)
    finally:
        await owner.close()
    runtime.pool = await create_pool(dsn, runtime.name, max_size=settings.db_pool_max, create_schema=False,
                                     acquire_timeout=settings.db_acquire_timeout)
    return dsn


async def _start_kafka(runtime: Runtime[Any, Any], settings: ServiceSettings) -> asyncio.Task[None] | None:
    """Topics and broker now if Kafka answers; else HTTP starts anyway (the outbox keeps the events)
    and a task keeps trying. Returns that task, or None when connected."""
    try:
        await _connect_kafka(runtime, settings)
        return None
    except Exception as exc:
        log.warning("kafka not usable at start (unreachable, refused, or topics missing); serving HTTP and retrying",
                    extra={"bootstrap": settings.kafka_bootstrap_servers, "error": str(exc)})
        return asyncio.create_task(_keep_connecting(runtime, settings), name=f"{runtime.name}-kafka-connect")


async def _connect_kafka(runtime: Runtime[Any, Any], settings: ServiceSettings) -> None:
    try:
        await require_topics(settings.kafka_servers, service_topics(runtime.name), settings.kafka_security)
        await runtime.broker.start()
    except Exception:
        with contextlib.suppress(Exception):
            await runtime.broker.stop()  # a failed start leaves its producer open
        raise


async def _keep_connecting(runtime: Runtime[Any, Any], settings: ServiceSettings, *, first_delay: float = 1.0) -> None:
    delay = first_delay
    while True:
        await asyncio.sleep(delay)
        try:
            await _connect_kafka(runtime, settings)
        except Exception as exc:
            log.warning("kafka still not usable", extra={"error": str(exc), "retry_in": delay})
            delay = min(delay * 2, 30.0)
            continue
        log.info("kafka connected", extra={"bootstrap": settings.kafka_bootstrap_servers})
        return


def new_runtime(name: str, settings: S, deps: D, *, retry: RetryPolicy | None = None) -> Runtime[S, D]:
    broker = make_broker(settings, name)
    return Runtime(name=name, settings=settings, clock=clock_from(settings.clock_file), broker=broker,
                   inbox=Inbox(broker=broker, group_id=f"bianmin-{name}{settings.consumer_group_suffix}",
                               retry=retry or RetryPolicy(), service=name, batch_size=settings.consume_batch),
                   deps=deps)
