"""Creates the declared topics before a service subscribes, instead of relying on auto-creation;
and places a new consumer group at the end of its topics."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.topics import ALL_TOPICS, EVENT_TOPICS

log = logging.getLogger(__name__)


def min_insync_replicas(replication: int) -> int:
    """With acks=all, a write needs this many replicas in sync: 2 of 3 (or more) survives one
    broker down without losing an acknowledged write; with 1 or 2 replicas, requiring them all
    would stop every write while one broker restarts, so 1."""
    return 2 if replication >= 3 else 1


def topic_configs(replication: int) -> dict[str, str]:
    # Kept forever: partners and new consumers may replay a topic from the start.
    return {"retention.ms": "-1", "min.insync.replicas": str(min_insync_replicas(replication))}


async def ensure_topics(bootstrap: str, *, partitions: int = 3, replication: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bianmin-topic-setup")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        # Event and DLQ topics alike: a dead letter is as much worth keeping as the event.
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=replication,
                            topic_configs=topic_configs(replication)) for t in ALL_TOPICS if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created them at the same moment
            log.info("topics created", extra={"topics": [t.name for t in missing]})
    finally:
        await admin.close()


async def topic_partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the given topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]


async def start_group_at_end(bootstrap: str, group: str, topics: list[str] | None = None) -> None:
    """Commits a new consumer group's offsets at the end of its topics, so a copy of a service (the
    bench, a test system) reads only what is sent from now on instead of replaying the history."""
    await ensure_topics(bootstrap)  # on a fresh broker no service has created them yet
    partitions = await topic_partitions(bootstrap, topics or list(EVENT_TOPICS))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
