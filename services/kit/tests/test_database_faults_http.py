"""A database that is down, restarting or read-only is a JSON 503 with Retry-After; any other
database error stays a bug (JSON 500). The rule is the consumers' own (faults.fault_class)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.kit.edge import install_edge
from services.kit.overload import install_overload_handlers

pytestmark = pytest.mark.unit

RAISED = {
    "read-only": asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
    "shutting-down": asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    "cannot-connect-now": asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    "refused": ConnectionRefusedError(111, "Connection refused"),
    "unique-violation": asyncpg.exceptions.UniqueViolationError("duplicate key value"),
}


def _app() -> FastAPI:
    app = FastAPI()
    install_edge(app, max_body_bytes=1024)
    install_overload_handlers(app)

    @app.get("/fail/{kind}")
    async def fail(kind: str) -> dict:
        raise RAISED[kind]

    return app


@pytest.mark.parametrize(("kind", "status"), [
    ("read-only", 503), ("shutting-down", 503), ("cannot-connect-now", 503), ("refused", 503),
    ("unique-violation", 500),
])
async def test_database_faults_answer_503_and_bugs_500(kind, status):
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.get(f"/fail/{kind}")
    assert resp.status_code == status
    if status == 503:
        assert resp.json()["code"] == "DATABASE_UNAVAILABLE" and resp.headers["Retry-After"]
    else:
        assert resp.json()["code"] == "INTERNAL_ERROR" and "duplicate" not in resp.text
