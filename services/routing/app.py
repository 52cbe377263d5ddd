"""Routing wiring: settings, runtime, routes, subscriptions, directory seeding, deadline scanner."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from contracts.events import EVENTS_BY_TOPIC
from contracts.topics import ROUTING_CASES
from services.kit.service import create_service, new_runtime
from services.routing import complaints_routes, handlers, store
from services.routing.deadlines import DeadlineScanner
from services.routing.deps import RoutingDeps, RoutingRuntime
from services.routing.metrics import refresh_open_breached
from services.routing.settings import RoutingSettings

NAME = "routing"


async def seed(runtime: RoutingRuntime) -> None:
    async with runtime.pool.acquire() as conn, conn.transaction():
        await store.seed_directory(conn)


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    scanner = DeadlineScanner(interval=settings.deadline_scan_seconds)
    runtime = new_runtime(NAME, settings, RoutingDeps(deadline_scanner=scanner))
    handlers.subscribe(runtime)
    return create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 routing: assignment, transfers, completion and deadlines of cases, for department staff.",
        publishes=list(EVENTS_BY_TOPIC[ROUTING_CASES]), routers=[handlers.router, complaints_routes.router],
        on_start=[seed], background=[scanner.scan_deadlines], metrics_refresh=[refresh_open_breached],
    )
