"""Kafka helpers for routing's integration tests: publish as intake would, read back what routing sent."""

from __future__ import annotations

import json
from datetime import datetime

from aiokafka import AIOKafkaConsumer

from contracts.envelope import Envelope
from contracts.events import event_type_name
from services.kit.kafka_security import kafka_client_options
from services.kit.testing import eventually, publish_events, topic_partitions


def group_of(settings) -> str:
    """Routing's consumer group under these settings, as the kit names it."""
    return f"bianmin-routing{settings.consumer_group_suffix}"


async def publish(bootstrap: str, *events: Envelope) -> None:
    await publish_events(bootstrap, *events)


async def read_events(bootstrap: str, cls: type[Envelope], case: Envelope, *,
                      since: datetime | None = None) -> list[tuple[dict, dict]]:
    """Every (body, headers) of this type for the case of `case`, sent since `case` occurred (or `since`, for a
    case stamped by a test's clock rather than the wall clock Kafka's timestamps follow)."""
    found = await read_topic(bootstrap, cls.TOPIC, key=str(case.case_id), since=since or case.occurred_at)
    return [(body, headers) for body, headers in found if headers.get("event_type") == event_type_name(cls)]


async def wait_for_events(bootstrap: str, cls: type[Envelope], case: Envelope, *, count: int = 1,
                          since: datetime | None = None) -> list[tuple[dict, dict]]:
    """Waits until at least `count` events of this type for the case of `case` are on Kafka; returns all of them."""
    async def probe():
        found = await read_events(bootstrap, cls, case, since=since)
        return found if len(found) >= count else None

    return await eventually(probe, timeout=30, interval=0.3, what=f"{count} {cls.__name__} for {case.case_id} on Kafka")


async def read_topic(bootstrap: str, topic: str, *, key: str, since: datetime) -> list[tuple[dict, dict]]:
    """Every (body, headers) with this key sent to the topic since `since`, reading each partition to its end."""
    partitions = await topic_partitions(bootstrap, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        starts = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
        for tp in partitions:
            consumer.seek(tp, starts[tp].offset if starts[tp] else end[tp])
        found: list[tuple[dict, dict]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                found += [(json.loads(r.value), {k: v.decode() for k, v in r.headers})
                          for r in records if r.key == key.encode() and r.offset < end[tp]]
        return found
    finally:
        await consumer.stop()
