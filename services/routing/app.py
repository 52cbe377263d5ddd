"""Routing wiring: settings, runtime, routes, subscriptions, directory seeding, deadline scanner."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from contracts.events import EVENTS_BY_TOPIC
from contracts.topics import ROUTING_CASES
from contracts.workdays import default_calendar
from services.kit.service import create_service, new_runtime
from services.routing import casework_routes, commands, complaints_routes, handlers, store
from services.routing.alerts import AlertPolicy
from services.routing.deadlines import DeadlineScanner
from services.routing.deps import RoutingDeps, RoutingRuntime
from services.routing.metrics import refresh_open_breached
from services.routing.settings import RoutingSettings

NAME = "routing"


log = logging.getLogger(__name__)


async def seed(runtime: RoutingRuntime) -> None:
    async with runtime.pool.acquire() as conn, conn.transaction():
        await store.seed_directory(conn)


async def recount_deadlines(runtime: RoutingRuntime) -> None:
    """Deadlines counted on the provisional calendar are recounted at every start: the official schedule of a
    year may have been added (deploy/calendar/, or a newer package) since they were counted."""
    changed = await commands.recount_provisional(runtime.pool, runtime.clock, runtime.deps.alert_policy)
    if changed:
        log.info("provisional deadlines recounted", extra={"cases": changed})


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    scanner = DeadlineScanner(interval=settings.deadline_scan_seconds)
    policy = AlertPolicy(default_calendar(), settings.warning_working_days, settings.warning_days_by_township)
    runtime = new_runtime(NAME, settings, RoutingDeps(deadline_scanner=scanner, alert_policy=policy))
    handlers.subscribe(runtime)
    return create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 routing: assignment, transfers, completion and deadlines of cases, for department staff.",
        publishes=list(EVENTS_BY_TOPIC[ROUTING_CASES]),
        routers=[handlers.router, casework_routes.router, complaints_routes.router],
        on_start=[seed, recount_deadlines], background=[scanner.scan_deadlines], metrics_refresh=[refresh_open_breached],
    )
