"""Runs a service's app under uvicorn; SIGTERM triggers the graceful lifespan shutdown."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

from services.kit.auth import ConfigurationError
from services.kit.logs import configure_logging
from services.kit.shutdown import HTTP_DRAIN_SECONDS

EX_CONFIG = 78  # sysexits.h: configuration error


def run_service(name: str, settings_type: type, create_app: Callable[[Any], FastAPI]) -> None:
    """Builds and serves a service; unsafe settings end the process with one line and a non-zero code."""
    try:
        settings = settings_type()
        app = create_app(settings)
    except ConfigurationError as exc:
        print(f"bianmin {name}: refusing to start: {exc}", file=sys.stderr, flush=True)
        sys.exit(EX_CONFIG)
    serve(app, host=settings.host, port=settings.port)


def serve(app: FastAPI, *, host: str, port: int) -> None:
    configure_logging(os.environ.get("BIANMIN_LOG_LEVEL", "INFO"))
    print(f"{app.title} listening on http://{host}:{port}", flush=True)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=int(HTTP_DRAIN_SECONDS))
