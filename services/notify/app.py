"""Notify wiring: settings, runtime, SMS provider, routes, subscriptions, sender."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from contracts.events import NotificationDelivered, NotificationFailed, NotificationSent
from services.kit.service import create_service, new_runtime
from services.notify import handlers, receipt_routes, sender, templates
from services.notify.deps import NotifyDeps, NotifyRuntime
from services.notify.providers import build_provider
from services.notify.settings import NotifySettings

NAME = "notify"


async def wire_provider(runtime: NotifyRuntime) -> None:
    if runtime.deps.provider is None:
        runtime.deps.provider = build_provider(runtime.settings, runtime.pool, runtime.clock)


async def read_templates(runtime: NotifyRuntime) -> None:
    # A broken template file stops the start, not the first message.
    templates.use(templates.load(runtime.settings.sms_texts_file))


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    runtime = new_runtime(NAME, settings, NotifyDeps())
    handlers.subscribe(runtime)
    return create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 notify: SMS to residents and staff, from templates, through a provider, with receipts.",
        publishes=[NotificationSent, NotificationDelivered, NotificationFailed],
        routers=[handlers.router, receipt_routes.router], background=[sender.send_loop],
        on_start=[wire_provider, read_templates],
    )
