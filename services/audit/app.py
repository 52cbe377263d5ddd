"""Audit wiring: settings, runtime, routes, the subscription to every event topic."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.audit import handlers
from services.audit.settings import AuditSettings
from services.kit.service import create_service, new_runtime

NAME = "audit"


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings()
    runtime = new_runtime(NAME, settings)
    handlers.subscribe(runtime)
    return create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 audit: append-only, hash-chained history of every event; integrity proofs for inspectors.",
        publishes=[], routers=[handlers.router],
    )
