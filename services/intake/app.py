"""Intake wiring: settings, runtime, routes, subscriptions, catalogue seeding."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from contracts.events import EVENTS_BY_TOPIC
from contracts.topics import INTAKE_CASES, INTAKE_HALL
from services.intake import contact_relay, document_routes, handlers, store
from services.intake.deps import IntakeRuntime
from services.intake.documents import check_font
from services.intake.settings import IntakeSettings
from services.kit.service import create_service, new_runtime

NAME = "intake"


async def seed(runtime: IntakeRuntime) -> None:
    async with runtime.pool.acquire() as conn, conn.transaction():
        await store.seed_catalogue(conn)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    check_font(settings.font_file)  # printed documents need it: refuse to start without it
    runtime = new_runtime(NAME, settings, None)  # intake needs nothing beyond the kit
    handlers.subscribe(runtime)
    return create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 intake: catalogue, taking cases in at one window, materials, ratings.",
        publishes=[*EVENTS_BY_TOPIC[INTAKE_CASES], *EVENTS_BY_TOPIC[INTAKE_HALL]], on_start=[seed],
        routers=[handlers.router, document_routes.router],
        background=[contact_relay.contact_loop],
    )
