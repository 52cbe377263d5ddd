"""The topics a service needs, checked before it subscribes (deploy/kafka_setup.py creates them; a
service's Kafka user may not), and a new consumer group placed at the end of its topics."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import CONSUMERS, dlq_of, producer_of
from services.kit.kafka_security import KafkaSecurity, kafka_client_options


class TopicsMissing(RuntimeError):
    """The cluster lacks topics this service uses; it keeps retrying until setup has run."""


def min_insync_replicas(replication: int) -> int:
    """With acks=all, a write needs this many replicas in sync: 2 of 3 (or more) survives one
    broker down without losing an acknowledged write; with 1 or 2 replicas, requiring them all
    would stop every write while one broker restarts, so 1."""
    return 2 if replication >= 3 else 1


def topic_configs(replication: int) -> dict[str, str]:
    # Kept forever: partners and new consumers may replay a topic from the start.
    return {"retention.ms": "-1", "min.insync.replicas": str(min_insync_replicas(replication))}


def service_topics(service: str) -> list[str]:
    """What a service writes (its own topics and the dead letters of what it reads) and reads."""
    topics = []
    for topic, readers in CONSUMERS.items():
        if producer_of(topic) == service or service in readers:
            topics.append(topic)
        if service in readers:
            topics.append(dlq_of(topic))
    return topics


async def require_topics(bootstrap: list[str], topics: list[str], security: KafkaSecurity) -> None:
    """Raises TopicsMissing unless every topic exists (and this service's Kafka user may describe it)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bianmin-topic-check", **security.aiokafka())
    await admin.start()
    try:
        missing = sorted(set(topics) - set(await admin.list_topics()))
    finally:
        await admin.close()
    if missing:
        raise TopicsMissing(f"topics missing or not visible to this Kafka user: {', '.join(missing)}; "
                            "create them with `python -m deploy.kafka_setup` (in Kubernetes: the KafkaTopic resources)")


async def topic_partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the given topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_client_options())
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]


async def start_group_at_end(bootstrap: str, group: str, topics: list[str] | None = None) -> None:
    """Commits a new consumer group's offsets at the end of its topics, so a copy of a service (the
    bench, a test system) reads only what is sent from now on instead of replaying the history."""
    partitions = await topic_partitions(bootstrap, topics or list(CONSUMERS))  # every topic a service reads
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                **kafka_client_options())
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
