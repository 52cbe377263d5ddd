"""Session fixtures shared by every test tier: real Kafka and real PostgreSQL, started once.

Order (docs/architecture.md): KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL if set; testcontainers where a
Docker engine answers; else the same local provisioning as `make up` (deploy/local.py).
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import asyncpg
import pytest

# A random JWT secret per session: in-process apps, service processes (they inherit the
# environment) and `services.kit.testing.auth_header` all read it; a developer's own wins.
os.environ.setdefault("BIANMIN_JWT_SECRET", secrets.token_urlsafe(48))
os.environ.setdefault("INTAKE_RATING_LINK_SECRET", secrets.token_urlsafe(48))  # signs SMS rating links


@dataclass(frozen=True)
class TestInfra:
    kafka_bootstrap: str
    database_url: str
    # service name -> its own Kafka user's KAFKA_* variables; None when the Kafka is not the local one
    kafka_user_env: Callable[[str], dict[str, str]] | None = None


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def infra() -> Iterator[TestInfra]:
    kafka, dsn = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    containers = []
    if (not kafka or not dsn) and _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        if not kafka:
            containers.append(KafkaContainer("apache/kafka:4.1.1").with_kraft())
            containers[-1].start()
            kafka = containers[-1].get_bootstrap_server()
        if not dsn:
            containers.append(PostgresContainer("postgres:17", driver=None))
            containers[-1].start()
            dsn = containers[-1].get_connection_url()
    started: list[str] = []
    user_env = None
    if not kafka or not dsn:
        from deploy import local
        from deploy.kafka_passwords import local_env

        provisioned = local.ensure_infra()
        kafka, dsn, started = kafka or provisioned.kafka_bootstrap, dsn or provisioned.database_url, provisioned.started
        if provisioned.kafka_admin_env and kafka == provisioned.kafka_bootstrap:
            # Tests and their tools act as the admin; service processes get their own users.
            os.environ.update(provisioned.kafka_admin_env)
            user_env = local_env
    elif containers:
        from deploy.kafka_setup import admin_client, create_topics
        from services.kit.kafka_security import kafka_security

        create_topics(admin_client(kafka, kafka_security()))  # services do not create topics
    yield TestInfra(kafka_bootstrap=kafka, database_url=dsn, kafka_user_env=user_env)
    for c in containers:
        c.stop()
    # Stop only what this session started; a running `make up` stays up.
    if "kafka" in started:
        local.stop_kafka()
    if "postgres" in started:
        local.stop_postgres()


def _with_database(dsn: str, name: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def make_database(infra: TestInfra) -> Callable[[str], Awaitable[str]]:
    """Creates an empty database per call, so tiers and modules never see each other's tables."""

    async def create(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(infra.database_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return _with_database(infra.database_url, name)

    return create
