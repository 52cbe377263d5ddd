"""Overload and a database that is gone, on real PostgreSQL and Kafka: quick JSON refusals with
Retry-After, and readiness that does not flap under a burst."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
import pytest

from services.kit.testing import auth_header, eventually, running_app
from services.kit.tests.test_readiness_integration import intake
from tests.builders import case_body

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="window-01")
BURST = 200


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def test_a_burst_is_answered_with_201_or_a_quick_refusal_and_readiness_holds(infra, make_database):
    app = await intake(infra, await make_database("it_burst"), BIANMIN_MAX_IN_FLIGHT=16,
                       BIANMIN_IN_FLIGHT_WAIT_SECONDS=0.05)
    async with running_app(app) as client:
        done = asyncio.Event()
        readiness: list[int] = []
        unready: list[str] = []

        async def poll_readiness() -> None:
            while not done.is_set():
                resp = await client.get("/readyz")
                readiness.append(resp.status_code)
                if resp.status_code != 200:
                    unready.append(resp.text)
                await asyncio.sleep(0.01)

        async def submit(seed: int):
            return await client.post("/api/v1/cases", json=case_body(1000 + seed), headers=STAFF)

        poller = asyncio.create_task(poll_readiness())
        answers = await asyncio.gather(*(submit(i) for i in range(BURST)))
        done.set()
        await poller

    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 429, 503}, sorted(set(statuses))
    refusals = [a for a in answers if a.status_code != 201]
    assert statuses.count(201) >= 1 and refusals, "a burst past the bound gets both answers"
    for refused in refusals:
        assert int(refused.headers["retry-after"]) > 0
        assert refused.json()["code"] in ("OVERLOADED", "DATABASE_BUSY") and chinese(refused.json()["message"])
    assert readiness and set(readiness) == {200}, unready[:3]


async def test_while_postgresql_refuses_connections_requests_get_json_503_with_retry_after(infra, make_database):
    dsn = await make_database("it_pg_down")
    name = dsn.rpartition("/")[2]
    admin = await asyncpg.connect(infra.database_url)
    try:
        async with running_app(await intake(infra, dsn)) as client:
            taken = await client.post("/api/v1/cases", json=case_body(41), headers=STAFF)
            assert taken.status_code == 201
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)

            for method, path, body in (("POST", "/api/v1/cases", case_body(42)),
                                       ("GET", f"/api/v1/cases/{taken.json()['case_id']}", None)):
                resp = await client.request(method, path, json=body, headers=STAFF)
                assert resp.status_code == 503, resp.text
                assert resp.headers["content-type"] == "application/json" and int(resp.headers["retry-after"]) > 0
                assert resp.json()["code"] == "DATABASE_UNAVAILABLE" and chinese(resp.json()["message"])
            # The public catalogue is served from the file loaded at start: residents still read it.
            assert (await client.get("/api/v1/catalogue/SB-002")).status_code == 200

            async def not_ready():
                resp = await client.get("/readyz")
                return resp.status_code == 503 and resp.json()
            assert (await eventually(not_ready, what="readiness to see the database gone"))["checks"]["database"] is False

            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

            async def taken_again():
                resp = await client.post("/api/v1/cases", json=case_body(43), headers=STAFF)
                return resp.status_code == 201
            await eventually(taken_again, what="intake to take cases in again")
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def test_no_free_connection_within_the_acquire_timeout_is_a_json_503(infra, make_database):
    app = await intake(infra, await make_database("it_pool_busy"), db_pool_max=2, BIANMIN_DB_ACQUIRE_TIMEOUT=0.2)
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        case_path = f"/api/v1/cases/{uuid4()}"
        async with pool.acquire(), pool.acquire():  # the business pool is all taken
            resp = await client.get(case_path, headers=STAFF)
            assert (resp.status_code, resp.json()["code"]) == (503, "DATABASE_BUSY") and chinese(resp.json()["message"])
            assert int(resp.headers["retry-after"]) > 0
            assert (await client.get("/readyz")).status_code == 200  # its own connection, not the pool's
        assert (await client.get(case_path, headers=STAFF)).json()["code"] == "CASE_NOT_FOUND"
