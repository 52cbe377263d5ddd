"""Audit against real Kafka and PostgreSQL: forged replays refused and kept, stream gaps opened,
aged past the grace and closed, the log reconciled against the topics.

The app runs on a clock the tests move (services.kit.testing.FixedClock). Other tests publish on the
same Kafka, so checks filter on this module's own events; tampering comes last.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from prometheus_client import REGISTRY

from services.audit import commands, kafka_scan, merkle_store, reconcile, verify
from services.audit.app import create_app
from services.audit.domain import audit_envelope
from services.audit.gaps import OVERDUE_MESSAGE
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, completed, rated, transferred
from services.audit.tests.probes import INSPECTOR, history_of, integrity, only, publish
from services.audit.tests.tamper import delete_record, rewrite_township
from services.kit.testing import FixedClock, eventually, publish_events, running_app, start_group_at_end

pytestmark = pytest.mark.integration
GRACE = 3600.0
INSPECTOR_TOKEN = INSPECTOR["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_audit_integrity"),
                             KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix,
                             gap_grace_seconds=GRACE, BIANMIN_METRICS_REFRESH_SECONDS=0.2)
    start = await kafka_scan.end_offsets(infra.kafka_bootstrap)  # reconciliation reads what this app may see
    app = create_app(settings)
    clock = FixedClock(datetime.now(UTC))
    app.state.runtime.clock = clock
    async with running_app(app) as client:
        yield client, app.state.runtime, clock, start


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _owner(runtime) -> asyncpg.Connection:
    return await asyncpg.connect(runtime.settings.database_url, server_settings={"search_path": "audit"})


async def test_forged_replay_is_refused_recorded_counted_and_reported(audit, infra):
    client, runtime, _, _ = audit
    case_id = uuid4()
    first = rated(case_id, version=1)
    forged = first.model_copy(update={"payload": first.payload.model_copy(update={"score": 1, "bad_rating": True})})
    marker = rated(case_id, version=2, minutes=6)  # same key and topic: consumed after the forgery
    refused_before = REGISTRY.get_sample_value("bianmin_audit_replays_refused_total") or 0.0

    sent = await publish_events(infra.kafka_bootstrap, first, first, forged, marker)
    history = await history_of(client, case_id, [first, marker])

    [logged, _] = only(history, [first, marker])
    assert logged["payload"]["score"] == 5  # the log keeps the first version
    conn = await _owner(runtime)
    try:
        rows = await conn.fetch('SELECT topic, partition, "offset", stored_sha256, received_sha256, received_text'
                                " FROM replays_refused WHERE event_id = $1", first.event_id)
        dead = await conn.fetchval("SELECT count(*) FROM dead_letters WHERE topic = $1", first.TOPIC)
    finally:
        await conn.close()
    [row] = rows  # the plain redelivery of `first` is not recorded
    assert (row["topic"], row["partition"], row["offset"]) == (first.TOPIC, sent[2].partition, sent[2].offset)
    assert row["stored_sha256"] == _sha(audit_envelope(first))
    assert row["received_sha256"] == _sha(audit_envelope(forged)) != row["stored_sha256"]
    assert row["received_text"] == audit_envelope(forged)
    assert dead == 0  # refused, not dead-lettered
    assert REGISTRY.get_sample_value("bianmin_audit_replays_refused_total") == refused_before + 1

    report = await integrity(client)
    assert report["refused_replays"] == 1
    assert report["latest_refused_replay"]["event_id"] == str(first.event_id)
    assert report["latest_refused_replay"]["offset"] == sent[2].offset
    assert report["valid"] is True  # refused before it changed anything: reported, the log is intact

    # The inspector's verifier, against the real service and a head signed now, names it and fails...
    await commands.append_checkpoint(runtime.pool, runtime.deps.signing_key, now=runtime.clock.now(), chunk=500)
    async with runtime.pool.acquire() as conn:
        heads = await merkle_store.signed_heads(conn, after=0, limit=1000)  # as read from the topic
    verdict = await verify.inspect(heads, public_key=runtime.deps.signing_key.public_key(), client=client,
                                   token=INSPECTOR_TOKEN)
    assert verdict.code == verify.TAMPERED
    assert any(f"事件 {first.event_id}" in line and f"偏移 {sent[2].offset}" in line for line in verdict.lines)
    # ... until the inspectors state they have looked into it.
    verdict = await verify.inspect(heads, public_key=runtime.deps.signing_key.public_key(), client=client,
                                   token=INSPECTOR_TOKEN, acknowledged_replays=1)
    assert verdict.code == verify.OK, verdict.lines


async def test_a_gap_is_listed_with_its_age_invalidates_after_the_grace_and_closes_late(audit, infra):
    client, runtime, clock, _ = audit
    case_id = uuid4()
    early = [assigned(case_id, version=1), completed(case_id, version=3)]
    late = transferred(case_id, version=2)
    await publish(infra.kafka_bootstrap, early)
    await history_of(client, case_id, early)

    def ours(report: dict) -> list[dict]:
        return [g for g in report["open_gaps"] if g["case_id"] == str(case_id)]

    report = await integrity(client)
    [gap] = ours(report)
    assert (gap["source"], gap["version"], gap["overdue"]) == ("routing", 2, False)
    assert 0 <= gap["age_seconds"] <= GRACE
    assert report["open_gap_count"] >= 1 and report["gap_grace_seconds"] == GRACE

    clock.at += timedelta(seconds=GRACE + 60)
    report = await integrity(client)
    [gap] = ours(report)
    assert gap["overdue"] is True and gap["age_seconds"] > GRACE
    assert report["valid"] is False and report["overdue_gap_count"] >= 1
    assert any(p.startswith(OVERDUE_MESSAGE) for p in report["problems"])
    await eventually(lambda: _gauge_at_least("bianmin_audit_stream_gaps_overdue", 1), what="the overdue gap gauge")
    overdue_before = report["overdue_gap_count"]

    await publish(infra.kafka_bootstrap, [late])
    await history_of(client, case_id, [*early, late])
    report = await integrity(client)
    assert ours(report) == [] and report["overdue_gap_count"] == overdue_before - 1
    conn = await _owner(runtime)
    try:
        closed_at = await conn.fetchval("SELECT closed_at FROM stream_gaps WHERE case_id = $1 AND version = 2", case_id)
    finally:
        await conn.close()
    assert closed_at == clock.at


async def _gauge_at_least(name: str, value: float) -> bool:
    return (REGISTRY.get_sample_value(name) or 0.0) >= value


async def test_reconciliation_names_events_deleted_from_or_rewritten_in_the_log(audit, infra):
    client, runtime, _, start = audit
    case_id = uuid4()
    events = [assigned(case_id, version=1), transferred(case_id, version=2), completed(case_id, version=3)]
    sent = await publish_events(infra.kafka_bootstrap, *events)
    history = only(await history_of(client, case_id, events), events)
    owner = runtime.settings.database_url
    await delete_record(owner, events[1].event_id)
    await rewrite_township(owner, next(e["seq"] for e in history if e["event_id"] == str(events[2].event_id)))

    conn = await _owner(runtime)
    try:
        logged = await reconcile.logged_from_database(conn, chunk=100)
        refused = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM replays_refused")}
    finally:
        await conn.close()
    invented = uuid4()  # a row nobody ever published
    report = await reconcile.reconcile(infra.kafka_bootstrap, {**logged, invented: "0" * 64}, start=start)

    [missing] = [e for e in report.missing if e.case_id == case_id]
    assert (missing.event_id, missing.event_type, missing.topic, missing.partition, missing.offset) == (
        events[1].event_id, "CaseTransferred", events[1].TOPIC, sent[1].partition, sent[1].offset)
    assert [e.event_id for e in report.differing if e.case_id == case_id] == [events[2].event_id]
    assert events[0].event_id not in {e.event_id for e in [*report.missing, *report.differing]}
    assert report.not_on_kafka == [invented] and report.not_on_kafka_count == 1
    assert {e.event_id for e in report.forged_copies} == refused  # refused forgeries: listed, no disagreement
    assert report.agrees is False and report.matched >= 1

    # the command line, as an operator runs it: exit 1 and the deleted event named in Chinese
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.audit.reconcile", "--bootstrap-servers", infra.kafka_bootstrap,
        "--database-url", owner, "--quiet", stdout=asyncio.subprocess.PIPE, env=os.environ.copy())
    out, _ = await proc.communicate()
    text = out.decode()
    assert proc.returncode == reconcile.DIFFERENT, text
    assert f"Kafka 上有而审计日志中没有：事件 {events[1].event_id}" in text or "……共" in text
    assert "结论：审计日志与 Kafka 不一致" in text
