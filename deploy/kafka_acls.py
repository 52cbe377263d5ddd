"""Who may do what on Kafka, made from the topic tables in contracts/topics.py.

One table serves the local cluster (`make up` creates these users and ACLs) and the Strimzi
KafkaUser resources in deploy/k8s (a test checks they agree). Operation and resource names are
Kafka's own, as Strimzi and kafka-acls spell them.

- a service writes the topics it produces and the dead-letter topics of what it reads, reads
  what it consumes, and uses the consumer groups named after it (`bianmin-<service>…`);
- a partner reads the case topics and nothing else, in groups named after it;
- an inspector reads the audit checkpoints (the verify CLI assigns partitions, no group).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from contracts.topics import AUDIT_CHECKPOINTS, CASE_TOPICS, CONSUMERS, dlq_of, producer_of

SERVICES: tuple[str, ...] = ("intake", "routing", "notify", "audit")
ADMIN_USER = "admin"  # super user: brokers, topic creation, operators' tools, the test suite
INSPECTOR_USER = "inspector"
DEMO_PARTNER = "partner-demo"  # the example partner `make up` creates

Resource = Literal["topic", "group"]
Pattern = Literal["literal", "prefix"]
Operation = Literal["Read", "Write", "Describe"]


@dataclasses.dataclass(frozen=True, order=True)
class Acl:
    user: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


def _topic(user: str, topic: str, *operations: Operation) -> list[Acl]:
    return [Acl(user, "topic", topic, "literal", op) for op in ("Describe", *operations)]


def service_acls(service: str) -> list[Acl]:
    acls: list[Acl] = []
    for topic, readers in CONSUMERS.items():
        if producer_of(topic) == service:
            acls += _topic(service, topic, "Write")
        if service in readers:
            acls += _topic(service, topic, "Read")
            acls += _topic(service, dlq_of(topic), "Write")
    acls.append(Acl(service, "group", f"bianmin-{service}", "prefix", "Read"))
    return sorted(set(acls))


def partner_acls(partner: str) -> list[Acl]:
    acls = [acl for topic in CASE_TOPICS for acl in _topic(partner, topic, "Read")]
    acls.append(Acl(partner, "group", f"{partner}.", "prefix", "Read"))
    return sorted(acls)


def inspector_acls() -> list[Acl]:
    return sorted(_topic(INSPECTOR_USER, AUDIT_CHECKPOINTS, "Read"))


def all_acls(partners: tuple[str, ...] = (DEMO_PARTNER,)) -> list[Acl]:
    acls = [acl for s in SERVICES for acl in service_acls(s)]
    acls += [acl for p in partners for acl in partner_acls(p)]
    return acls + inspector_acls()


def users(partners: tuple[str, ...] = (DEMO_PARTNER,)) -> tuple[str, ...]:
    return (ADMIN_USER, *SERVICES, *partners, INSPECTOR_USER)
