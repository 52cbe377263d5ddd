"""Every Kafka topic bianmin uses. A guard test fails on any topic used but not declared here.

One topic per producing service's case stream, keyed by case id: Kafka keeps the events of
one case from one service in order on one partition, and `event_type` travels in a header.
Audit's signed checkpoints and inspections, and the hall's queue tickets, are not about cases and get topics of their own.

Residents' phone numbers travel on none of those: they have a compacted topic of their own,
keyed by case id, that only notify may read. Compaction keeps the latest record per case, and
a tombstone (a record with no value) erases a contact without touching the case history.
The Kafka ACLs (deploy/kafka_acls.py) are made from the producer and consumer tables below.
"""

from __future__ import annotations

DLQ_SUFFIX = ".dlq"
PREFIX = "bianmin."

INTAKE_CASES = "bianmin.intake.cases.v1"
ROUTING_CASES = "bianmin.routing.cases.v1"
NOTIFY_CASES = "bianmin.notify.cases.v1"
AUDIT_CHECKPOINTS = "bianmin.audit.checkpoints.v1"
AUDIT_INSPECTIONS = "bianmin.audit.inspections.v1"  # who looked at what, and the accountability ledger
INTAKE_CONTACTS = "bianmin.intake.contacts.v1"
INTAKE_HALL = "bianmin.intake.hall.v1"  # queue tickets: not about cases, keyed by ticket id
ROUTING_STAFF = "bianmin.routing.staff.v1"  # staff, presence, rosters: not about cases, keyed by staff stream id
ROUTING_STAFF_CONTACTS = "bianmin.routing.staff-contacts.v1"  # staff phones, compacted, keyed by staff id

# topic -> the one service that produces it (the event topics, enveloped events)
PRODUCERS: dict[str, str] = {
    INTAKE_CASES: "intake", ROUTING_CASES: "routing", NOTIFY_CASES: "notify", AUDIT_CHECKPOINTS: "audit",
    AUDIT_INSPECTIONS: "audit", INTAKE_HALL: "intake", ROUTING_STAFF: "routing",
}
EVENT_TOPICS: tuple[str, ...] = tuple(PRODUCERS)
# The case streams: what a partner system may subscribe to.
CASE_TOPICS: tuple[str, ...] = (INTAKE_CASES, ROUTING_CASES, NOTIFY_CASES)

# Personal contact data (residents' from intake, staff's from routing), read by notify alone, compacted so it can be erased.
CONTACT_TOPICS: tuple[str, ...] = (INTAKE_CONTACTS, ROUTING_STAFF_CONTACTS)
CONTACT_PRODUCERS: dict[str, str] = {INTAKE_CONTACTS: "intake", ROUTING_STAFF_CONTACTS: "routing"}

# topic -> the services that read it. Inspectors read the checkpoints too, with the verify CLI.
CONSUMERS: dict[str, tuple[str, ...]] = {
    INTAKE_CASES: ("routing", "notify", "audit"),
    ROUTING_CASES: ("intake", "notify", "audit"),
    NOTIFY_CASES: ("audit",),
    AUDIT_CHECKPOINTS: ("audit",),
    AUDIT_INSPECTIONS: ("audit",),
    INTAKE_HALL: ("audit",),
    INTAKE_CONTACTS: ("notify",),
    ROUTING_STAFF: ("audit",),
    ROUTING_STAFF_CONTACTS: ("notify",),
}


def dlq_of(topic: str) -> str:
    return topic + DLQ_SUFFIX


DLQ_TOPICS: tuple[str, ...] = tuple(dlq_of(t) for t in (*EVENT_TOPICS, *CONTACT_TOPICS))
# A dead-lettered contact still holds a phone number: it must be erasable like the contact.
COMPACTED_TOPICS: tuple[str, ...] = (*CONTACT_TOPICS, *(dlq_of(t) for t in CONTACT_TOPICS))
ALL_TOPICS: tuple[str, ...] = (*EVENT_TOPICS, *CONTACT_TOPICS, *DLQ_TOPICS)


def producer_of(topic: str) -> str:
    return PRODUCERS.get(topic) or CONTACT_PRODUCERS[topic]
