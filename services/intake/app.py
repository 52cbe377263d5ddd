"""Intake wiring: settings, runtime, routes, subscriptions, catalogue seeding."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from contracts.events import EVENTS_BY_TOPIC
from contracts.topics import INTAKE_CASES, INTAKE_HALL
from services.intake import (
    catalogue_routes,
    catalogue_store,
    contact_relay,
    document_routes,
    hall_routes,
    handlers,
    matters_routes,
    notice_period,
    rating_routes,
)
from services.intake.catalogue_file import load_catalogue
from services.intake.catalogue_routes import PublishedCatalogue
from services.intake.catalogue_search import CatalogueIndex
from services.intake.deps import IntakeRuntime
from services.intake.settings import IntakeSettings
from services.kit.pdf import check_font
from services.kit.service import create_service, new_runtime

NAME = "intake"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    check_font(settings.font_file, setting="INTAKE_FONT_FILE")  # printed documents need it: refuse to start without it
    runtime = new_runtime(NAME, settings, None)  # intake needs nothing beyond the kit
    handlers.subscribe(runtime)
    # Read and checked before anything starts: a wrong catalogue file stops intake with the item and field.
    published = PublishedCatalogue(index=CatalogueIndex(load_catalogue(settings.catalogue_file)))

    async def store_catalogue(runtime: IntakeRuntime) -> None:
        async with runtime.pool.acquire() as conn, conn.transaction():
            published.item_versions = await catalogue_store.store_catalogue(conn, published.file)

    app = create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 intake: catalogue, taking cases in at one window, materials, ratings.",
        publishes=[*EVENTS_BY_TOPIC[INTAKE_CASES], *EVENTS_BY_TOPIC[INTAKE_HALL]],
        routers=[handlers.router, catalogue_routes.router, hall_routes.router, matters_routes.router,
                 rating_routes.router, document_routes.router],  # rating channels and the resident's status page (ADR 21)
        on_start=[store_catalogue],
        background=[contact_relay.contact_loop, notice_period.notice_period_loop],
    )
    app.state.catalogue = published
    return app
