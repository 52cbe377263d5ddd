"""The periodic chain check walks the whole log a chunk per round and reports, on /metrics, a pass
that found the chain intact, then the rewritten record."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.audit.app import create_app
from services.audit.chain_check import ChainWalker
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, completed, submitted
from services.audit.tests.probes import history_of, only, publish
from services.audit.tests.tamper import rewrite_township
from services.kit.testing import running_app, start_group_at_end
from tests.scrape import scrape, value

pytestmark = pytest.mark.integration


@pytest.fixture
async def audit(infra, make_database):
    dsn = await make_database("it_audit_chain_check")
    suffix = f"-it-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    app = create_app(AuditSettings(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                                   BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, checkpoint_seconds=3600,
                                   chain_check_seconds=3600))  # the test steps a walker of its own
    async with running_app(app) as client:
        case_id = uuid4()
        events = [submitted(case_id), assigned(case_id, version=1), completed(case_id, version=2)]
        await publish(infra.kafka_bootstrap, events)
        ours = only(await history_of(client, case_id, events), events)
        yield client, dsn, ours, app.state.runtime


async def test_chain_check_passes_in_chunks_then_reports_a_rewritten_record(audit):
    client, dsn, ours, runtime = audit
    walker = ChainWalker(chunk=2)
    rounds = 0
    while walker.passes == 0:
        await walker.step(runtime.pool)
        rounds += 1
    assert rounds >= 2, "three records or more in chunks of two take more than one round"
    samples = await scrape(client, "")
    assert value(samples, "bianmin_audit_chain_valid") == 1
    assert value(samples, "bianmin_audit_chain_verified_records") >= len(ours)

    target = max(ours, key=lambda e: e["seq"])
    await rewrite_township(dsn, target["seq"])
    while walker.passes == 1:
        await walker.step(runtime.pool)
    assert value(await scrape(client, ""), "bianmin_audit_chain_valid") == 0
