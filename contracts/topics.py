"""Every Kafka topic bianmin uses. A guard test fails on any topic used but not declared here.

One topic per producing service's case stream, keyed by case id: Kafka keeps the events of
one case from one service in order on one partition, and `event_type` travels in a header.
Audit's signed checkpoints are not about cases and get a topic of their own.
"""

from __future__ import annotations

DLQ_SUFFIX = ".dlq"
PREFIX = "bianmin."

INTAKE_CASES = "bianmin.intake.cases.v1"
ROUTING_CASES = "bianmin.routing.cases.v1"
NOTIFY_CASES = "bianmin.notify.cases.v1"
AUDIT_CHECKPOINTS = "bianmin.audit.checkpoints.v1"

# topic -> the one service that produces it
PRODUCERS: dict[str, str] = {
    INTAKE_CASES: "intake", ROUTING_CASES: "routing", NOTIFY_CASES: "notify", AUDIT_CHECKPOINTS: "audit",
}
EVENT_TOPICS: tuple[str, ...] = tuple(PRODUCERS)
DLQ_TOPICS: tuple[str, ...] = tuple(t + DLQ_SUFFIX for t in EVENT_TOPICS)
ALL_TOPICS: tuple[str, ...] = (*EVENT_TOPICS, *DLQ_TOPICS)


def dlq_of(topic: str) -> str:
    return topic + DLQ_SUFFIX
