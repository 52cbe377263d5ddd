"""Rebuilding the audit log from Kafka on real Kafka and PostgreSQL: events published through the
running audit app, rebuilt into another schema of its database, give the same histories and a valid
chain. Kafka also holds other tests' and benches' events, which this app never saw: the rebuild
starts where this app's consumer group did, so it reads the same stream without the whole history
(`start`; the command line always reads from the beginning)."""

from __future__ import annotations

import uuid
from uuid import uuid4

import asyncpg
import pytest

from services.audit import kafka_scan, rebuild
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, completed, rated, submitted, transferred
from services.audit.tests.probes import history_of, new_traceparent, publish
from services.kit.testing import running_app, start_group_at_end

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    # Taken before the group is placed: the rebuild reads at least what this app may see, even while
    # others produce (taken after, an event sent in between was logged live but never rebuilt).
    start = await kafka_scan.end_offsets(infra.kafka_bootstrap)
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_audit_rebuild"),
                             KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime, start


async def _history(dsn: str, schema: str, case_id) -> list[tuple]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f'SELECT event_id, envelope, trace_id FROM "{schema}".audit_log WHERE case_id = $1'
                                " ORDER BY occurred_at, event_id", case_id)
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


async def test_a_rebuild_from_kafka_has_the_same_histories_and_a_valid_chain(audit, infra):
    client, runtime, start = audit
    traceparent, trace_id = new_traceparent()
    cases = [uuid4(), uuid4()]
    events = [e for c in cases for e in (submitted(c), assigned(c, version=1), transferred(c, version=2),
                                         completed(c, version=3), rated(c, version=2))]
    await publish(infra.kafka_bootstrap, events, traceparent=traceparent)
    for case_id in cases:
        await history_of(client, case_id, [e for e in events if e.case_id == case_id])
    dsn = runtime.settings.database_url

    outcome = await rebuild.rebuild(bootstrap=infra.kafka_bootstrap, database_url=dsn, schema="audit_rebuild",
                                    quiet=True, start=start)

    assert outcome.integrity.chain.first_bad is None and outcome.integrity.chain.records >= len(events)
    assert outcome.replayed.appended >= len(events) and outcome.replayed.rate > 0
    c = outcome.comparison
    assert c.only_live == [] and c.differing == []  # everything the live log holds, rebuilt identically
    ours = {e.event_id for e in events}
    assert not ours & set(c.only_rebuilt)
    for case_id in cases:
        live, rebuilt = await _history(dsn, "audit", case_id), await _history(dsn, "audit_rebuild", case_id)
        assert rebuilt == live and {e.event_id for e in events if e.case_id == case_id} <= {r[0] for r in live}
        assert {r[2] for r in rebuilt if r[0] in ours} == {trace_id}

    with pytest.raises(rebuild.RebuildRefused):  # an existing schema is not overwritten unless asked
        await rebuild.rebuild(bootstrap=infra.kafka_bootstrap, database_url=dsn, schema="audit_rebuild", quiet=True)
    with pytest.raises(rebuild.RebuildRefused):
        await rebuild.rebuild(bootstrap=infra.kafka_bootstrap, database_url=dsn, schema="audit", quiet=True)
