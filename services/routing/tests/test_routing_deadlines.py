"""The deadline scanner against real PostgreSQL and Kafka: one DeadlineBreached per case, across restarts and instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from contracts.events import CaseCompleted, CaseSubmitted, DeadlineBreached
from contracts.workdays import default_calendar
from services.kit.db import apply_migrations, create_pool
from services.kit.testing import FixedClock, auth_header, eventually, running_app, start_group_at_end
from services.routing import commands, store
from services.routing.alerts import AlertPolicy
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.tests.builders import case_submitted
from services.routing.tests.probes import group_of, publish, read_events, wait_for_events

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="staff-qs-01", department_code="social_security")
ROUTING_DIR = Path(__file__).resolve().parent.parent


async def _breaches(pool, case_id: UUID) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM events WHERE case_id = $1 AND event_type = 'DeadlineBreached'", case_id)


async def _scans(scanner, more: int) -> None:
    """Waits until the scanner has completed `more` scans after this call."""
    target = scanner.scans + more

    async def done() -> bool:
        return scanner.scans >= target

    await eventually(done, what=f"{more} more deadline scans")


async def _routed(client, case_id) -> dict:
    async def probe():
        resp = await client.get(f"/api/v1/cases/{case_id}", headers=STAFF)
        return resp.json() if resp.status_code == 200 else None

    return await eventually(probe, what=f"routing to assign case {case_id}")


async def test_breach_is_emitted_once_and_not_again_after_a_restart(infra, make_database, tmp_path):
    clock_file = tmp_path / "clock-offset"
    clock_file.write_text("0")
    settings = RoutingSettings(DATABASE_URL=await make_database("it_routing_deadlines"),
                               KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CLOCK_FILE=str(clock_file),
                               BIANMIN_CONSUMER_GROUP_SUFFIX=f"-it-{uuid4().hex[:8]}", deadline_scan_seconds=0.5)
    # A short deadline, so moving the clock 20 minutes breaches this case and few others on the shared topic.
    submitted = case_submitted(deadline=datetime.now(UTC) + timedelta(minutes=10))
    await start_group_at_end(infra.kafka_bootstrap, group_of(settings), [CaseSubmitted.TOPIC])
    db = await create_pool(settings.database_url, "routing", min_size=1, max_size=2)
    try:
        await _breached_in_first_run(settings, clock_file, submitted, db)
        await _not_again_after_restart(settings, submitted, db)
        on_kafka = await read_events(infra.kafka_bootstrap, DeadlineBreached, submitted)
        assert len({b["event_id"] for b, _ in on_kafka}) == 1  # a relay retry may repeat it, never a new breach
    finally:
        await db.close()


async def _breached_in_first_run(settings, clock_file: Path, submitted, db) -> None:
    app = create_app(settings)
    async with running_app(app) as client:
        scanner = app.state.runtime.deps.deadline_scanner
        await publish(settings.kafka_bootstrap_servers, submitted)
        await _routed(client, submitted.case_id)
        await _scans(scanner, 2)
        assert await _breaches(db, submitted.case_id) == 0, "flagged before its deadline"

        clock_file.write_text(str(20 * 60))
        await eventually(lambda: _breaches(db, submitted.case_id), what="the DeadlineBreached")
        await _scans(scanner, 3)
        assert await _breaches(db, submitted.case_id) == 1
        view = (await client.get(f"/api/v1/cases/{submitted.case_id}", headers=STAFF)).json()
        assert view["overdue"] is True and view["breached_at"] is not None and view["status"] == "assigned"
        [(body, _)] = await wait_for_events(settings.kafka_bootstrap_servers, DeadlineBreached, submitted)
        assert body["actor"] == {"kind": "system", "id": "routing"} and body["causation_id"] is None
        assert body["payload"]["staff_id"] == view["staff_id"]
        assert datetime.fromisoformat(body["payload"]["detected_at"]) > submitted.payload.promised_deadline


async def _not_again_after_restart(settings, submitted, db) -> None:
    app = create_app(settings)  # a new process, in effect: nothing kept but the database and the group
    async with running_app(app) as client:
        await _scans(app.state.runtime.deps.deadline_scanner, 3)
        assert await _breaches(db, submitted.case_id) == 1
        done = await client.post(f"/api/v1/cases/{submitted.case_id}/complete",
                                 json={"result": "granted", "note": "已办结"}, headers=STAFF)
        assert done.status_code == 200 and done.json()["on_time"] is False and done.json()["overdue"] is True
        [(completed, _)] = await wait_for_events(settings.kafka_bootstrap_servers, CaseCompleted, submitted)
        assert completed["payload"]["on_time"] is False


async def test_concurrent_scanners_never_flag_a_case_twice(make_database):
    dsn = await make_database("it_routing_scanners")
    pools = [await create_pool(dsn, "routing", min_size=1, max_size=4) for _ in range(3)]  # three "instances"
    try:
        await apply_migrations(pools[0], "routing", ROUTING_DIR)
        now = datetime.now(UTC)
        async with pools[0].acquire() as conn, conn.transaction():
            await store.seed_directory(conn)
        case_ids = []
        policy = AlertPolicy(default_calendar())
        for i in range(30):
            submitted = case_submitted(deadline=now - timedelta(minutes=i + 1))
            async with pools[0].acquire() as conn, conn.transaction():
                await commands.assign_submitted(conn, FixedClock(now), policy, event=submitted)
            case_ids.append(submitted.case_id)
        later = FixedClock(now + timedelta(minutes=1))

        async def drain(pool) -> list[str]:
            fired = []
            while (event_type := await commands.fire_next_timer(pool, later)) is not None:
                fired.append(event_type)
            return fired

        runs = await asyncio.gather(*(drain(p) for p in pools for _ in range(2)))
        fired = [c for run in runs for c in run]
        assert fired == ["DeadlineBreached"] * len(case_ids)  # one timer per case, each fired once
        assert sum(1 for run in runs if run) >= 2, "the scanners did not actually overlap"
        assert [await _breaches(pools[0], c) for c in case_ids] == [1] * len(case_ids)
        assert await commands.fire_next_timer(pools[1], FixedClock(now + timedelta(days=30))) is None
    finally:
        for pool in pools:
            await pool.close()
