"""Audit against real PostgreSQL and Kafka: subscriber, history, gaps, integrity, feed, roles.

Other services' tests publish on the same topics, and their services react to ours, so every
check filters on this test's own case and event ids; the other events are in the chain too,
which verification must accept.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from uuid import uuid4

import asyncpg
import pytest

from contracts.topics import EVENT_TOPICS
from services.audit import commands
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, completed, rated, submitted, transferred
from services.audit.tests.probes import INSPECTOR, gaps_of, history_of, integrity, new_traceparent, only, publish
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_audit"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                            BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


@pytest.fixture(scope="module")
def owner_dsn(audit) -> str:
    return audit[1].settings.database_url


async def test_history_holds_every_event_in_order_with_trace(audit, infra):
    client, runtime = audit
    case_id = uuid4()
    traceparent, trace_id = new_traceparent()
    events = [submitted(case_id), assigned(case_id, version=1), transferred(case_id, version=2),
              completed(case_id, version=3), rated(case_id, version=2)]
    # Arrival order differs from occurrence order: history sorts by occurred_at, then seq.
    await publish(infra.kafka_bootstrap, [events[4], events[0], events[3], events[1], events[2]],
                  traceparent=traceparent)

    history = await history_of(client, case_id, events)
    ours = only(history, events)
    assert [e["event_id"] for e in ours] == [str(e.event_id) for e in events]
    assert [(e["source"], e["stream_version"]) for e in ours] == [
        ("intake", 1), ("routing", 1), ("routing", 2), ("routing", 3), ("intake", 2)]
    assert gaps_of(history, "intake", "routing") == [] and history["township_id"] == "qingshui"
    assert {e["trace_id"] for e in ours} == {trace_id}
    first = ours[0]
    assert first["actor"] == {"kind": "staff", "id": "staff-0001"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in ours)
    async with runtime.pool.acquire() as conn:
        stored = await conn.fetch("SELECT envelope FROM audit_log WHERE case_id = $1", case_id)
    assert len(stored) >= 5


async def test_duplicate_delivery_is_stored_once(audit, infra):
    client, runtime = audit
    case_id = uuid4()
    first = assigned(case_id, version=1)
    # Same key and topic, so the marker is consumed after both copies of `first`.
    marker = assigned(case_id, version=2, minutes=5)
    await publish(infra.kafka_bootstrap, [first, first, marker])
    history = await history_of(client, case_id, [first, marker])
    assert [e["event_id"] for e in only(history, [first, marker])] == [str(first.event_id), str(marker.event_id)]
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE event_id = $1", first.event_id) == 1


async def test_missing_stream_version_is_reported_until_it_arrives(audit, infra):
    client, _ = audit
    case_id = uuid4()
    # No CaseSubmitted: a routing service on the shared Kafka would answer it with versions of its own.
    early = [assigned(case_id, version=1), completed(case_id, version=3)]
    late = transferred(case_id, version=2)
    await publish(infra.kafka_bootstrap, early)
    history = await history_of(client, case_id, early)
    assert gaps_of(history, "intake", "routing") == [{"source": "routing", "missing": [2]}]
    report = await integrity(client)
    assert {"case_id": str(case_id), "source": "routing", "missing": [2]} in report["stream_gaps"]

    await publish(infra.kafka_bootstrap, [late])
    history = await history_of(client, case_id, [*early, late])
    assert gaps_of(history, "intake", "routing") == []
    assert [e["stream_version"] for e in only(history, [*early, late]) if e["source"] == "routing"] == [1, 2, 3]


async def test_integrity_is_valid_and_the_feed_is_in_seq_order(audit, infra):
    client, _ = audit
    case_id = uuid4()
    events = [submitted(case_id), assigned(case_id, version=1)]
    await publish(infra.kafka_bootstrap, events)
    seqs = sorted(e["seq"] for e in only(await history_of(client, case_id, events), events))
    report = await integrity(client)
    assert report["valid"] is True and report["first_bad"] is None
    assert report["records"] >= 2 and report["head_seq"] == report["records"]  # seq has no holes
    assert re.fullmatch(r"[0-9a-f]{64}", report["head_hash"])

    first_page = (await client.get("/api/v1/events", params={"limit": 3}, headers=INSPECTOR)).json()
    assert [e["seq"] for e in first_page] == [1, 2, 3][: len(first_page)] and len(first_page) >= 2

    page = (await client.get("/api/v1/events", params={"after_seq": seqs[0] - 1, "limit": 1000},
                             headers=INSPECTOR)).json()
    assert [e["seq"] for e in page] == list(range(seqs[0], seqs[0] + len(page)))  # commit order has no holes
    ids = {str(event.event_id) for event in events}
    ours = [e for e in page if e["event_id"] in ids]
    assert [e["seq"] for e in ours] == seqs
    assert {e["event_type"] for e in ours} == {"CaseSubmitted", "CaseAssigned"}
    assert set(ours[0]) == {"seq", "event_id", "event_type", "case_id", "township_id", "source", "stream_version",
                            "topic", "occurred_at", "recorded_at", "trace_id", "envelope", "hashed_text", "prev_hash",
                            "hash"}
    bad = await client.get("/api/v1/events", params={"limit": 5000}, headers=INSPECTOR)
    assert bad.status_code == 422 and bad.json()["code"] == "VALIDATION_FAILED"


async def test_concurrent_appends_keep_one_linear_chain(audit):
    client, runtime = audit
    case_id = uuid4()
    events = [assigned(case_id, version=v) for v in range(1, 21)]

    async def append(event):
        async with runtime.pool.acquire() as conn, conn.transaction():
            await commands.record_event(conn, event, now=runtime.clock.now())

    await asyncio.gather(*(append(e) for e in events))  # as many at once as the pool allows
    history = await history_of(client, case_id, events)
    assert sorted(e["stream_version"] for e in only(history, events)) == list(range(1, 21))
    report = await integrity(client)
    assert report["valid"] is True and report["head_seq"] == report["records"]


async def test_runtime_role_may_only_read_and_append(audit, infra):
    client, runtime = audit
    sent = assigned(uuid4(), version=1)
    await publish(infra.kafka_bootstrap, [sent])
    [event] = only(await history_of(client, sent.case_id, [sent]), [sent])  # the service works as this role
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_user") == "bianmin_audit_writer"
        for sql in ("UPDATE audit_log SET township_id = 'baishi' WHERE event_id = $1",
                    "DELETE FROM audit_log WHERE event_id = $1"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql, sent.event_id)
        for sql in ("TRUNCATE audit_log", "ALTER TABLE audit_log DISABLE TRIGGER USER",
                    "LOCK TABLE audit_log IN EXCLUSIVE MODE", "DROP TABLE audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute(sql)
        row = await conn.fetchrow("SELECT township_id, hash FROM audit_log WHERE event_id = $1", sent.event_id)
    assert (row["township_id"], row["hash"]) == ("qingshui", event["hash"])


async def test_even_the_owner_is_refused_update_delete_and_truncate(audit, owner_dsn, infra):
    client, _ = audit
    sent = assigned(uuid4(), version=1)
    await publish(infra.kafka_bootstrap, [sent])
    only(await history_of(client, sent.case_id, [sent]), [sent])
    conn = await asyncpg.connect(owner_dsn, server_settings={"search_path": "audit"})
    try:
        for sql in ("UPDATE audit_log SET township_id = 'baishi' WHERE event_id = $1",
                    "DELETE FROM audit_log WHERE event_id = $1"):
            with pytest.raises(asyncpg.RestrictViolationError, match="只允许追加"):
                await conn.execute(sql, sent.event_id)
        with pytest.raises(asyncpg.RestrictViolationError, match="只允许追加，禁止清空"):
            await conn.execute("TRUNCATE audit_log")
    finally:
        await conn.close()


async def test_roles_and_townships(audit, infra):
    client, _ = audit
    sent = assigned(uuid4(), version=1)
    await publish(infra.kafka_bootstrap, [sent])
    await history_of(client, sent.case_id, [sent])
    url = f"/api/v1/cases/{sent.case_id}/history"
    assert (await client.get(url)).status_code == 401
    for role in ("staff", "village_agent"):
        refused = await client.get(url, headers=auth_header(role, "qingshui"))
        assert refused.status_code == 403 and refused.json()["code"] == "ROLE_FORBIDDEN"
        assert "无权" in refused.json()["message"]
    other = await client.get(url, headers=auth_header("centre_head", "baishi"))
    assert other.status_code == 403 and other.json()["code"] == "TOWNSHIP_FORBIDDEN"
    for headers in (auth_header("centre_head", "qingshui"), auth_header("admin", None)):
        assert (await client.get(url, headers=headers)).status_code == 200
    head = auth_header("centre_head", "qingshui")
    assert (await client.get("/api/v1/integrity", headers=head)).json()["code"] == "ROLE_FORBIDDEN"
    assert (await client.get("/api/v1/events", headers=auth_header("staff", "qingshui"))).status_code == 403
    missing = await client.get(f"/api/v1/cases/{uuid4()}/history", headers=INSPECTOR)
    assert missing.status_code == 404
    assert missing.json() == {"code": "CASE_HISTORY_NOT_FOUND", "message": "未找到该办件的审计记录"}


async def test_health_and_asyncapi_list_every_event_topic(audit):
    client, _ = audit
    ready = await eventually(lambda: _ready(client), what="readiness")
    assert ready["checks"] == {"database": True, "kafka": True, "relay": "active"}
    channels = json.dumps((await client.get("/asyncapi")).json()["channels"])
    assert all(topic in channels for topic in EVENT_TOPICS)


async def _ready(client):
    resp = await client.get("/readyz")  # ready as soon as the database answers; wait for the relay's lock too
    return resp.json() if resp.status_code == 200 and resp.json()["checks"]["relay"] == "active" else None
