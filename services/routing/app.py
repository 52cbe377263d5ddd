"""Routing wiring: settings, runtime, routes, subscriptions, directory seeding, deadline scanner."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from contracts.events import EVENTS_BY_TOPIC
from contracts.topics import ROUTING_CASES, ROUTING_STAFF
from contracts.workdays import default_calendar
from services.kit.service import create_service, new_runtime
from services.routing import (
    casework_routes,
    commands,
    complaints_routes,
    follow_up_routes,
    handlers,
    staff_commands,
    staff_routes,
)
from services.routing.absences import AbsenceScanner
from services.routing.alerts import AlertPolicy
from services.routing.deadlines import DeadlineScanner
from services.routing.deps import RoutingDeps, RoutingRuntime
from services.routing.metrics import refresh_open_breached
from services.routing.settings import RoutingSettings
from services.routing.staff_contacts import staff_contact_loop
from services.routing.staff_file import load_staff_file

NAME = "routing"


log = logging.getLogger(__name__)


async def seed(runtime: RoutingRuntime) -> None:
    """Departments, office lines and staff of the seed file, recorded as county IT would (idempotently)."""
    await staff_commands.seed_staff_file(runtime.pool, runtime.clock, load_staff_file(runtime.settings.staff_file))


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
    absences = AbsenceScanner()
    handlers.subscribe(runtime)
    return create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 routing: assignment, transfers, completion and deadlines of cases, for department staff.",
        publishes=[*EVENTS_BY_TOPIC[ROUTING_CASES], *EVENTS_BY_TOPIC[ROUTING_STAFF]],
        routers=[handlers.router, casework_routes.router, complaints_routes.router, staff_routes.router,
                 follow_up_routes.router],
        on_start=[seed, recount_deadlines],
        background=[scanner.scan_deadlines, absences.scan_absences, staff_contact_loop],
        metrics_refresh=[refresh_open_breached],
    )
