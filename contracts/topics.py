"""Every Kafka topic bianmin uses. A guard test fails on any topic used but not declared here."""

from __future__ import annotations

from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES

DLQ_SUFFIX = ".dlq"
PREFIX = "bianmin."

EVENT_TOPICS: dict[str, type[Envelope]] = {cls.TOPIC: cls for cls in EVENT_TYPES}
DLQ_TOPICS: tuple[str, ...] = tuple(t + DLQ_SUFFIX for t in EVENT_TOPICS)
ALL_TOPICS: tuple[str, ...] = (*EVENT_TOPICS, *DLQ_TOPICS)


def topic_of(cls: type[Envelope]) -> str:
    return cls.TOPIC


def dlq_of(topic: str) -> str:
    return topic + DLQ_SUFFIX
