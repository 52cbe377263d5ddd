"""Fault suite fixtures: its own Kafka and PostgreSQL (killed and restarted by the cases) and the
four services as processes on them. Run alone with `make test-faults`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deploy.kafka_acls import ADMIN_USER
from deploy.kafka_passwords import local_env
from deploy.services import ServiceProcess, System, build_system
from services.notify.tests.rules_off import RULES_OFF_ENV
from tests.faults import infra as fault_infra_module
from tests.faults.infra import FAULT_DIR, REPORT, SERVICE_PORT_OFFSET, FaultInfra
from tests.faults.verdict import RECORDED

# Cheap faults first; the hostile input may jam the shared system, tampering breaks its own chain.
CASE_ORDER = ["test_kill_services", "test_kill_kafka", "test_postgres_outage", "test_rebalance",
              "test_hostile_input", "test_tampering", "test_cluster"]


def pytest_collection_modifyitems(config, items):
    def rank(item) -> tuple[int, int]:
        module = Path(str(item.fspath)).stem
        if item.get_closest_marker("fault") is None:
            return (0, 0)
        return (1, CASE_ORDER.index(module) if module in CASE_ORDER else len(CASE_ORDER))

    items.sort(key=rank)  # stable: the rest of the suite keeps its order and runs first


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if RECORDED:
        terminalreporter.section("fault suite figures")
        for line in RECORDED:
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"(also in {REPORT})")


@pytest.fixture(scope="session")
def fault_infra() -> FaultInfra:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("")
    fault_infra_module.wipe()
    infra = FaultInfra()
    infra.start()
    # Same password files as the main broker's: the suite's own clients connect as admin.
    os.environ.update(local_env(ADMIN_USER))
    yield infra
    infra.stop()


def signing_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return key


async def create_database(infra: FaultInfra, name: str) -> str:
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return infra.database_url.rsplit("/", 1)[0] + f"/{name}"


def fault_system(infra: FaultInfra, database_url: str, name: str, *, group: str, port_shift: int = 0,
                 extra_env: dict[str, str] | None = None,
                 kafka_user_env: Callable[[str], dict[str, str]] = local_env) -> System:
    """The four services on one database; `group` suffixes their consumer groups, so two systems on
    the broker never split partitions (instances of one system share it)."""
    work = FAULT_DIR / "services" / name
    work.mkdir(parents=True, exist_ok=True)
    key_file = work / "audit-signing-key.pem"
    signing_key(key_file)
    return build_system(
        kafka=infra.kafka_bootstrap, database_url=database_url, port_offset=SERVICE_PORT_OFFSET + port_shift,
        log_dir=work / "logs", run_dir=work / "run", kafka_user_env=kafka_user_env,
        extra_env={"BIANMIN_CONSUMER_GROUP_SUFFIX": f"-{group}", "NOTIFY_SEND_INTERVAL": "0.2", **RULES_OFF_ENV,
                   "AUDIT_SIGNING_KEY_FILE": str(key_file), "AUDIT_CHECKPOINT_SECONDS": "3600", **(extra_env or {})},
    )


# Systems on the broker share its topics: one system's routing would assign the other's cases.
# So a case that brings its own system first stops the ones running (see stop_other_systems).
RUNNING: list[System] = []


@pytest.fixture(scope="session")
async def system(fault_infra) -> System:
    """Shared by the cases that end with a valid chain (all but tampering)."""
    sys_ = fault_system(fault_infra, await create_database(fault_infra, "faults"), "shared", group="faults")
    RUNNING.append(sys_)
    await asyncio.to_thread(sys_.start)
    yield sys_
    await asyncio.to_thread(sys_.stop)


async def stop_other_systems() -> None:
    while RUNNING:
        await asyncio.to_thread(RUNNING.pop().stop)


async def restart(svc: ServiceProcess) -> None:
    """kill -9, then the same command again on the same database."""
    svc.kill()
    assert not svc.alive()
    await asyncio.to_thread(svc.start)
    await asyncio.to_thread(svc.wait_ready)
