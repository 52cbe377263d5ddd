"""Audit wiring: settings, runtime, signing key, routes, the subscription to every event topic, the checkpointer."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from fastapi import FastAPI

from contracts.events import AuditCheckpointed
from contracts.inspection_events import AccountabilityRecorded, AuditQueried
from services.audit import (
    access_log_routes,
    anomaly_routes,
    bad_rating_routes,
    checkpoints,
    dossier_routes,
    export_routes,
    figure_routes,
    gaps,
    hall_figures_routes,
    handlers,
    keyring,
    ledger_routes,
    merkle_store,
    proof_routes,
    query_routes,
    roles,
    timeline_routes,
)
from services.audit.chain_check import check_chain
from services.audit.deps import AuditDeps, AuditRuntime
from services.audit.read_model_task import catch_up_read_model
from services.audit.settings import AuditSettings
from services.kit.pdf import check_font
from services.kit.service import create_service, new_runtime

NAME = "audit"
DEVELOPMENT_KEY = Path(__file__).resolve().parents[2] / ".local" / "audit-signing-key.pem"
DEVELOPMENT_DB_PASSWORD = DEVELOPMENT_KEY.with_name("audit-db-password")


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings()
    check_font(settings.font_file, setting="AUDIT_FONT_FILE")  # the case dossier needs it: refuse to start without it
    runtime = new_runtime(NAME, settings, AuditDeps())
    handlers.subscribe(runtime)

    async def load_signing_key(rt: AuditRuntime) -> None:
        rt.deps.signing_key = checkpoints.load_signing_key(settings.signing_key_file, development_path=DEVELOPMENT_KEY)
        rt.deps.retired_keys = keyring.load_retired(settings.retired_public_keys_file)

    async def catch_up_tree(rt: AuditRuntime) -> None:
        await merkle_store.catch_up(rt.pool)  # records logged before the Merkle tree existed

    async def runtime_database(owner: asyncpg.Pool) -> str:
        password = (settings.db_password.get_secret_value() if settings.db_password
                    else None if settings.runtime_database_url else roles.development_password(DEVELOPMENT_DB_PASSWORD))
        return await roles.runtime_dsn(owner, schema=NAME, owner_dsn=settings.database_url,
                                       runtime_url=settings.runtime_database_url, password=password or "")

    return create_service(
        name=NAME, settings=settings, version="0.1.0", service_dir=Path(__file__).parent, runtime=runtime,
        description="便民 audit: append-only, hash-chained history of every event; integrity proofs for inspectors; "
                    "signed checkpoints of the chain head on Kafka.",
        publishes=[AuditCheckpointed, AuditQueried, AccountabilityRecorded],
        routers=[handlers.router, proof_routes.router, export_routes.router, query_routes.router,
                 anomaly_routes.router, figure_routes.router, timeline_routes.router, access_log_routes.router,
                 ledger_routes.router, hall_figures_routes.router, dossier_routes.router,
                 bad_rating_routes.router],
        on_start=[load_signing_key, catch_up_tree],
        background=[handlers.publish_checkpoints, check_chain, catch_up_read_model],
        runtime_database=runtime_database, metrics_refresh=[gaps.refresh_metrics],
    )
