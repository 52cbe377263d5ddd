"""Runs a service's app under uvicorn; SIGTERM triggers the graceful lifespan shutdown."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from services.kit.logs import configure_logging


def serve(app: FastAPI, *, host: str, port: int) -> None:
    configure_logging(os.environ.get("BIANMIN_LOG_LEVEL", "INFO"))
    print(f"{app.title} listening on http://{host}:{port}", flush=True)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=20)
