"""Kafka helpers for notify's integration tests on topics other suites share."""

from __future__ import annotations

from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.envelope import Envelope
from services.kit.inbox import Inbox
from services.kit.testing import eventually
from services.notify.tests.builders import CASES


async def start_at_the_end(bootstrap: str, group_id: str, topics: list[str]) -> None:
    """Commit the group's offsets at the current ends, so a fresh group does not replay the
    shared topics' whole history (they are kept forever)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # topics missing on a fresh broker have no history to skip
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        if partitions:
            consumer.assign(partitions)
            await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


def skip_other_suites_cases(inbox: Inbox) -> None:
    """Acknowledge, unprocessed, events of cases these tests did not build.

    Other suites publish on the same topics while this one runs (an end-to-end system moving its
    clock makes hundreds of DeadlineBreached for cases this fresh database never saw); each would
    wait out the contact retries and hold up the partition our events are on. The key is the case id.
    """
    process = inbox.process

    async def ours_only(msg, apply) -> None:
        if (msg.raw_message.key or b"").decode(errors="replace") not in CASES:
            await msg.ack()
            return
        await process(msg, apply)

    inbox.process = ours_only


async def publish(bootstrap: str, *events: Envelope, partition: int | None = None) -> list:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        return [await producer.send_and_wait(e.TOPIC, e.to_json_bytes(), key=str(e.case_id).encode(),
                                             partition=partition, headers=[("event_type", e.event_type.encode())])
                for e in events]
    finally:
        await producer.stop()


async def consume_until(bootstrap: str, topic: str, match):
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"probe-{uuid4().hex}", enable_auto_commit=False)
    await consumer.start()
    try:
        async def probe():
            batch = await consumer.getmany(timeout_ms=500)
            return next((r for records in batch.values() for r in records if match(r)), None)
        return await eventually(probe, timeout=30, what=f"a matching record on {topic}")
    finally:
        await consumer.stop()
