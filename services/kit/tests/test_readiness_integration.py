"""/readyz on real PostgreSQL and Kafka: standby relays are ready, Kafka down is reported but ready,
a relay stuck on a row is not ready until it moves again."""

from __future__ import annotations

import asyncio
import socket
from contextlib import AsyncExitStack
from uuid import uuid4

import asyncpg
import pytest

from contracts.events import CaseAssigned, CaseCompleted, CaseTransferred, DeadlineBreached
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end
from tests.builders import case_body

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="window-01")
INTAKE_TOPICS = [CaseAssigned.TOPIC, CaseTransferred.TOPIC, CaseCompleted.TOPIC, DeadlineBreached.TOPIC]


async def intake(infra, dsn: str, *, kafka: str | None = None, **env):
    """An intake app in its own consumer group, started at the end of its topics."""
    suffix = f"-ready-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}", INTAKE_TOPICS)
    return create_app(IntakeSettings(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=kafka or infra.kafka_bootstrap,
                                     BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, **env))


async def readiness(client) -> tuple[int, dict]:
    resp = await client.get("/readyz")
    return resp.status_code, resp.json()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_two_instances_one_active_relay_one_standby_both_ready(infra, make_database):
    dsn = await make_database("it_ready_two")
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(running_app(await intake(infra, dsn))) for _ in range(2)]

        async def one_active_one_standby():
            answers = [await readiness(c) for c in clients]
            relays = sorted(body["checks"]["relay"] for _, body in answers)
            return answers if relays == ["active", "standby"] else None

        answers = await eventually(one_active_one_standby, what="one active and one standby relay")
        assert [status for status, _ in answers] == [200, 200]
        assert all(body["checks"]["database"] and body["checks"]["kafka"] for _, body in answers)


async def test_kafka_unreachable_is_reported_and_intake_stays_ready_with_events_in_the_outbox(infra, make_database):
    dsn = await make_database("it_ready_nokafka")
    app = await intake(infra, dsn, kafka=f"127.0.0.1:{closed_port()}")
    async with running_app(app) as client:
        status, body = await readiness(client)
        assert status == 200 and body["status"] == "ready"
        assert body["checks"]["database"] is True and body["checks"]["kafka"] is False
        taken = await client.post("/api/v1/cases", json=case_body(31), headers=STAFF)
        assert taken.status_code == 201, taken.text

        async def still_ready_with_the_event_held():
            status, body = await readiness(client)
            return status == 200 and body["relay"]["oldest_pending_seconds"] is not None and body
        body = await eventually(still_ready_with_the_event_held, what="readiness to see the held event")
        assert body["checks"]["relay"] in ("active", "waiting_for_kafka")
        async with app.state.runtime.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM events WHERE published_at IS NULL") == 1


HOLD_UPDATES = """
CREATE FUNCTION intake.hold_publishing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock(424242); RETURN NEW; END $$;
CREATE TRIGGER hold_publishing BEFORE UPDATE ON intake.events FOR EACH ROW EXECUTE FUNCTION intake.hold_publishing();
"""


async def test_a_relay_stuck_on_a_row_makes_the_instance_not_ready_until_it_moves(infra, make_database):
    dsn = await make_database("it_ready_stuck")
    app = await intake(infra, dsn, BIANMIN_RELAY_STUCK_SECONDS=1.0)
    holder = await asyncpg.connect(dsn)
    try:
        async with running_app(app) as client:
            await holder.execute(HOLD_UPDATES)  # marking a row published now waits for lock 424242
            await holder.execute("SELECT pg_advisory_lock(424242)")
            assert (await client.post("/api/v1/cases", json=case_body(32), headers=STAFF)).status_code == 201

            async def not_ready():
                status, body = await readiness(client)
                return status == 503 and body

            body = await eventually(not_ready, what="readiness to see the stuck relay")
            assert body["checks"] == {"database": True, "kafka": True, "relay": "stuck"}
            assert body["relay"]["oldest_pending_seconds"] > 1.0
            await holder.execute("SELECT pg_advisory_unlock(424242)")

            async def ready_again():
                status, body = await readiness(client)
                return status == 200 and body["checks"]["relay"] == "active"
            await eventually(ready_again, what="the relay to move on and the instance to be ready")
    finally:
        await asyncio.wait_for(holder.close(), 10)
