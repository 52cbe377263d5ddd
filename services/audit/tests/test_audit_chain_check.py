"""The periodic chain check walks the whole log a chunk per round and reports, on /metrics, a pass
that found the chain intact, then the rewritten record."""

from __future__ import annotations

import pytest

from services.audit.chain_check import ChainWalker
from services.audit.tests.probes import audit_with_one_case
from services.audit.tests.tamper import rewrite_township
from tests.scrape import scrape, value

pytestmark = pytest.mark.integration


@pytest.fixture
async def audit(infra, make_database):
    async with audit_with_one_case(infra, make_database, "it_audit_chain_check", checkpoint_seconds=3600,
                                   chain_check_seconds=3600) as case:  # the test steps a walker of its own
        yield case


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
