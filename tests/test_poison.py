"""An unreadable message lands in its topic's .dlq and the consumers go on."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.events import CaseSubmitted
from contracts.topics import dlq_of
from services.kit.kafka_security import kafka_client_options
from services.kit.testing import eventually
from tests import scenario

pytestmark = pytest.mark.e2e


async def test_poison_message_is_dead_lettered_and_consumers_continue(http, infra):
    marker = f"poison-{uuid.uuid4().hex}".encode()
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, **kafka_client_options())
    await producer.start()
    try:
        await producer.send_and_wait(CaseSubmitted.TOPIC, b"{not json at all " + marker, key=marker)
    finally:
        await producer.stop()

    created = await scenario.submit(http, seed=31)  # behind the poison message on the same topic
    await scenario.routing_case(http, created["case_id"])
    await scenario.history_with(http, created["case_id"], ["CaseSubmitted", "CaseAssigned"])

    consumer = AIOKafkaConsumer(dlq_of(CaseSubmitted.TOPIC), bootstrap_servers=infra.kafka_bootstrap,
                                auto_offset_reset="earliest", group_id=f"probe-{uuid.uuid4().hex}",
                                **kafka_client_options())
    await consumer.start()
    groups: set[str] = set()
    try:
        async def all_groups_dead_lettered():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    if r.key == marker:
                        headers = dict(r.headers)
                        assert headers["dlq_source_topic"] == CaseSubmitted.TOPIC.encode()
                        assert b"unreadable" in headers["dlq_reason"]
                        groups.add(headers["dlq_consumer_group"].decode())
            return {g.split("-e2e-")[0] for g in groups} >= {"bianmin-routing", "bianmin-notify", "bianmin-audit"}

        await eventually(all_groups_dead_lettered, timeout=60, what="the poison message in the DLQ from every consumer")
    finally:
        await consumer.stop()

    # The poison cannot be read however often it is re-driven: the CLI says so, and changes nothing.
    result = await _redrive_cli(http.url("routing", ""))
    assert result["failed"] >= 1 and result["redriven"] == 0
    again = await _redrive_cli(http.url("routing", ""))
    assert again["failed"] == result["failed"]


async def _redrive_cli(url: str) -> dict:
    """`make redrive` as an operator runs it, against the routing process."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.kit.redrive", "--service", "routing",
                                                "--url", url, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out
    return json.loads(out)
