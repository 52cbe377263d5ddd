"""Creates the declared topics before a service subscribes, instead of relying on auto-creation."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.topics import ALL_TOPICS

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, *, partitions: int = 3, replication: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bianmin-topic-setup")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        # Kept forever: partners and new consumers may replay a topic from the start.
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=replication,
                            topic_configs={"retention.ms": "-1"}) for t in ALL_TOPICS if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created them at the same moment
            log.info("topics created", extra={"topics": [t.name for t in missing]})
    finally:
        await admin.close()
