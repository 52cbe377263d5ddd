"""One case's trace over OTLP/HTTP: the four services, run with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
receiver in the test, export spans that share the trace id of the window's HTTP submit."""

from __future__ import annotations

import uuid

import httpx
import pytest

from deploy.services import SERVICES, build_system
from deploy.trace_tree import Receiver, Span, tree
from services.kit.testing import eventually, start_group_at_end
from services.notify.tests.rules_off import RULES_OFF_ENV
from tests import scenario
from tests.conftest import PORT_OFFSET, Api

pytestmark = pytest.mark.e2e

EVERY_SERVICE = {f"bianmin-{name}" for name in SERVICES}


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
async def traced_api(infra, make_database, tmp_path_factory, receiver):
    work = tmp_path_factory.mktemp("traced")
    suffix = f"-traced-{uuid.uuid4().hex[:6]}"
    for name in SERVICES:
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
    system = build_system(
        kafka=infra.kafka_bootstrap, database_url=await make_database("traced"), port_offset=PORT_OFFSET + 40,
        log_dir=work / "logs", run_dir=work / "run",
        extra_env={"BIANMIN_CONSUMER_GROUP_SUFFIX": suffix, "NOTIFY_SEND_INTERVAL": "0.2",
                   "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200", **RULES_OFF_ENV},
    )
    system.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            yield Api(client, system)
    finally:
        system.stop()


async def test_one_case_is_one_trace_from_the_window_to_audit(traced_api, receiver):
    created = await scenario.submit(traced_api, seed=81)
    history = await scenario.history_with(traced_api, created["case_id"], ["CaseSubmitted", "CaseAssigned"])
    trace_id = history["events"][0]["trace_id"]
    assert trace_id and len(trace_id) == 32

    def joined(spans: list[Span]) -> set[str]:
        """Services with a consumer span under a publish span of this trace. (Another copy of the
        system on the same broker may add consumer spans whose publish it does not export.)"""
        by_id = {s.span_id: s for s in spans}
        return {s.service for s in spans if s.kind == "consumer" and s.parent_span_id in by_id
                and by_id[s.parent_span_id].kind == "producer"}

    async def whole_tree():
        # exporters send in batches, so a child may arrive before its parent
        spans = receiver.trace(trace_id)
        return spans if joined(spans) >= EVERY_SERVICE - {"bianmin-intake"} else None

    spans = await eventually(whole_tree, timeout=60, what=f"consumer spans of routing, notify, audit in trace {trace_id}")
    [root] = [s for s in spans if s.parent_span_id == ""]
    assert (root.service, root.kind) == ("bianmin-intake", "server") and "/api/v1/cases" in root.name
    assert any(s.kind == "producer" and s.parent_span_id == root.span_id for s in spans), \
        "the relay's publish does not continue the request's trace"
    printed = tree(spans)
    assert printed.splitlines()[0].lstrip().startswith("+0.0 ms  bianmin-intake  server")
    print(f"trace {trace_id}\n{printed}")
