"""End-to-end fixtures: the four services as processes on the session's Kafka and a fresh database."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import pytest

from deploy.services import SERVICES, System, build_system
from services.kit.testing import auth_header, start_group_at_end
from services.notify.tests.rules_off import RULES_OFF_ENV

# 18101..18104 by default, so a running `make up` does not collide; two suites on one machine set their own.
PORT_OFFSET = int(os.environ.get("BIANMIN_E2E_PORT_OFFSET", "10000"))


@pytest.fixture(scope="session")
async def system(infra, make_database, tmp_path_factory) -> System:
    work = tmp_path_factory.mktemp("e2e")
    clock_file = work / "clock-offset"
    clock_file.write_text("0")
    suffix = f"-e2e-{uuid.uuid4().hex[:6]}"
    for name in SERVICES:  # read only this session's traffic, not the broker's whole history
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
    system = build_system(
        kafka=infra.kafka_bootstrap, database_url=await make_database("e2e"), port_offset=PORT_OFFSET,
        log_dir=work / "logs", run_dir=work / "run", kafka_user_env=infra.kafka_user_env,
        extra_env={"BIANMIN_CLOCK_FILE": str(clock_file), "BIANMIN_CONSUMER_GROUP_SUFFIX": suffix,
                   "ROUTING_DEADLINE_SCAN_SECONDS": "0.5", "NOTIFY_SEND_INTERVAL": "0.2",
                   "BIANMIN_METRICS_REFRESH_SECONDS": "0.5", "AUDIT_CHAIN_CHECK_SECONDS": "0.5", **RULES_OFF_ENV},
    )
    system.clock_file = clock_file  # type: ignore[attr-defined]
    system.start()
    yield system
    system.stop()


@pytest.fixture(scope="session")
def clock_file(system) -> Path:
    return system.clock_file


@pytest.fixture(scope="session")
async def http(system):
    async with httpx.AsyncClient(timeout=10) as client:
        yield Api(client, system)


class Api:
    """Thin client over the public HTTP interfaces of the four services."""

    STAFF = auth_header("staff", "qingshui", sub="window-01")
    INSPECTOR = auth_header("inspector", None, sub="inspector-01")

    def __init__(self, client: httpx.AsyncClient, system: System) -> None:
        self.client, self.system = client, system

    def url(self, service: str, path: str) -> str:
        return f"{self.system[service].url}{path}"

    async def get(self, service: str, path: str, headers=None, **kw) -> httpx.Response:
        return await self.client.get(self.url(service, path), headers=headers or self.STAFF, **kw)

    async def post(self, service: str, path: str, json: dict, headers=None) -> httpx.Response:
        return await self.client.post(self.url(service, path), json=json, headers=headers or self.STAFF)

    async def history(self, case_id: str) -> dict | None:
        resp = await self.get("audit", f"/api/v1/cases/{case_id}/history", headers=self.INSPECTOR)
        return resp.json() if resp.status_code == 200 else None
