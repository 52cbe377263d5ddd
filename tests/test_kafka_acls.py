"""The Kafka ACLs on the real local broker: each user may do what deploy/kafka_acls.py grants and is
refused the rest. (That the services' own users suffice is shown by the end-to-end suite, whose
service processes run as them.)"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError
from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload
from contracts.topics import AUDIT_CHECKPOINTS, INTAKE_CASES, INTAKE_CONTACTS, NOTIFY_CASES, ROUTING_CASES
from deploy.kafka_acls import DEMO_PARTNER, INSPECTOR_USER
from deploy.kafka_setup import admin_client, local_admin_security, setup
from services.kit.kafka_security import KafkaSecurity
from services.kit.testing import eventually, publish_events, start_group_at_end

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def as_user(infra):
    if infra.kafka_user_env is None:
        pytest.skip("the users and ACLs are those of the local broker; this Kafka is another")
    return lambda user: KafkaSecurity.from_env(infra.kafka_user_env(user)).aiokafka()


def _event() -> CaseRated:
    case_id = uuid4()
    return CaseRated(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="intake",
                     case_id=case_id, stream_version=1, township_id="qingshui", actor=Actor(kind="resident", id="r"),
                     correlation_id=case_id, payload=CaseRatedPayload(score=5, comment="", bad_rating=False))


async def _produce(bootstrap: str, options: dict, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=10_000, **options)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"acl-test")
    finally:
        await producer.stop()


async def _read(bootstrap: str, options: dict, topic: str, group: str | None, *, until=None) -> list:
    """Records the user reads in `group` (from its committed offsets, else the start of the topic):
    all of one poll, or, with `until`, polls until a record matches it."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, **options)
    try:
        await consumer.start()
        seen: list = []

        async def poll():
            batch = await consumer.getmany(timeout_ms=1000)
            seen.extend(r for records in batch.values() for r in records)
            return until is None or any(until(r) for r in seen)
        await eventually(poll, what=f"records on {topic}")
        return seen
    finally:
        await consumer.stop()


async def test_a_service_may_not_write_another_services_topic(infra, as_user):
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(infra.kafka_bootstrap, as_user("intake"), ROUTING_CASES)
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(infra.kafka_bootstrap, as_user("notify"), INTAKE_CASES)


@pytest.mark.parametrize("service", ["routing", "audit"])
async def test_only_notify_reads_the_contact_topic(infra, as_user, service):
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(infra.kafka_bootstrap, as_user(service), INTAKE_CONTACTS, f"bianmin-{service}-acl-{uuid4().hex[:6]}")
    # notify, in a group of its own, is let through (an empty poll is fine: nothing is refused)
    await _read(infra.kafka_bootstrap, as_user("notify"), INTAKE_CONTACTS, f"bianmin-notify-acl-{uuid4().hex[:6]}")


async def test_a_partner_reads_the_case_topics_in_its_own_groups(infra, as_user):
    group = f"{DEMO_PARTNER}.acl-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, group, [INTAKE_CASES])  # as admin: skip the history
    event = _event()
    await publish_events(infra.kafka_bootstrap, event)
    records = await _read(infra.kafka_bootstrap, as_user(DEMO_PARTNER), INTAKE_CASES, group,
                          until=lambda r: r.key == str(event.case_id).encode())
    assert any(str(event.event_id).encode() in r.value for r in records)


async def test_a_partner_is_refused_contacts_writes_and_other_groups(infra, as_user):
    partner = as_user(DEMO_PARTNER)
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(infra.kafka_bootstrap, partner, INTAKE_CONTACTS, f"{DEMO_PARTNER}.contacts")
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(infra.kafka_bootstrap, partner, NOTIFY_CASES)
    for group in ("bianmin-routing", f"other-partner.{uuid4().hex[:6]}"):
        with pytest.raises(GroupAuthorizationFailedError):
            await _read(infra.kafka_bootstrap, partner, INTAKE_CASES, group)


async def test_the_inspector_reads_the_checkpoints_without_a_group_and_nothing_else(infra, as_user):
    inspector = as_user(INSPECTOR_USER)
    consumer = AIOKafkaConsumer(AUDIT_CHECKPOINTS, bootstrap_servers=infra.kafka_bootstrap, group_id=None, **inspector)
    try:
        await consumer.start()
        assert consumer.assignment()  # every partition, as the verify CLI reads them
        await consumer.getmany(timeout_ms=500)
    finally:
        await consumer.stop()
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(infra.kafka_bootstrap, inspector, INTAKE_CASES, None)


async def test_setup_is_idempotent_and_removes_acls_the_table_does_not_grant(infra, as_user):
    security = local_admin_security()
    assert setup(infra.kafka_bootstrap, security).acls_created == 0  # the session's setup made them all
    stray = AclBinding(ResourceType.TOPIC, INTAKE_CONTACTS, ResourcePatternType.LITERAL, f"User:{DEMO_PARTNER}", "*",
                       AclOperation.READ, AclPermissionType.ALLOW)
    admin = admin_client(infra.kafka_bootstrap, security)  # kept referenced until the futures resolve
    for future in admin.create_acls([stray]).values():
        future.result(timeout=30)
    # the stray grant works, so the refusal below is setup's doing
    await _read(infra.kafka_bootstrap, as_user(DEMO_PARTNER), INTAKE_CONTACTS, f"{DEMO_PARTNER}.stray")

    report = setup(infra.kafka_bootstrap, security)
    assert (report.topics_created, report.acls_created, report.acls_deleted) == ([], 0, 1)
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(infra.kafka_bootstrap, as_user(DEMO_PARTNER), INTAKE_CONTACTS, f"{DEMO_PARTNER}.stray")
