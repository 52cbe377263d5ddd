"""Guards: declared topics and the services' subscriptions and publications must agree."""

from __future__ import annotations

import importlib

import pytest

from contracts.events import EVENT_TYPES, AuditCheckpointed
from contracts.inspection_events import AuditQueried
from contracts.topics import CASE_TOPICS, COMPACTED_TOPICS, CONSUMERS, CONTACT_TOPICS, EVENT_TOPICS, dlq_of
from deploy.kafka_acls import all_acls

pytestmark = pytest.mark.unit
SERVICES = ["intake", "routing", "notify", "audit"]


def _broker(name: str):
    return importlib.import_module(f"services.{name}.app").create_app().state.runtime.broker


@pytest.fixture(scope="module")
def wiring() -> dict[str, tuple[set[str], set[str]]]:
    out = {}
    for name in SERVICES:
        broker = _broker(name)
        subscribed = {t for s in broker.subscribers for t in s.topic_names}
        published = {p.topic for p in broker.publishers}
        out[name] = (subscribed, published)
    return out


def test_every_used_topic_is_declared(wiring):
    for name, (subscribed, published) in wiring.items():
        assert subscribed <= set(CONSUMERS), f"{name} subscribes to undeclared {subscribed - set(CONSUMERS)}"
        assert published <= set(EVENT_TOPICS), f"{name} publishes undeclared {published - set(EVENT_TOPICS)}"


def test_every_declared_topic_has_one_producer_and_a_consumer(wiring):
    for topic in EVENT_TOPICS:
        producers = [n for n, (_, pub) in wiring.items() if topic in pub]
        consumers = [n for n, (sub, _) in wiring.items() if topic in sub]
        assert len(producers) == 1, f"{topic} is published by {producers}"
        assert consumers, f"{topic} is declared but nobody subscribes"


def test_audit_hears_every_event(wiring):
    assert wiring["audit"][0] == set(EVENT_TOPICS)  # its own checkpoints too: they are chained like the rest


def test_audit_publishes_only_its_checkpoints_and_inspections(wiring):
    """Audit records what the others did; all it says itself is the signed head of its chain, and who
    looked at the log and what followed (its inspections stream)."""
    assert wiring["audit"][1] == {AuditCheckpointed.TOPIC, AuditQueried.TOPIC}


def test_no_event_carries_a_phone_number():
    """Phone numbers travel only on the compacted contact topic, where they can be erased."""
    for cls in EVENT_TYPES:
        payload_fields = cls.model_fields["payload"].annotation.model_fields
        assert not [name for name in payload_fields if "phone" in name], f"{cls.__name__} carries a phone number"


def test_only_notify_reads_the_contact_topics(wiring):
    for topic in CONTACT_TOPICS:
        readers = {name for name, (subscribed, _) in wiring.items() if topic in subscribed}
        assert readers == set(CONSUMERS[topic]) == {"notify"}, topic
        granted = {acl.user for acl in all_acls() if acl.name.startswith(topic) and acl.operation == "Read"}
        assert granted == {"notify"}, topic
        assert topic not in CASE_TOPICS
    assert set(COMPACTED_TOPICS) == {*CONTACT_TOPICS, *(dlq_of(t) for t in CONTACT_TOPICS)}


def test_subscriptions_match_the_consumer_table(wiring):
    """The Kafka ACLs are made from CONSUMERS: a service reading a topic not listed there would be refused."""
    for topic, readers in CONSUMERS.items():
        actual = {name for name, (subscribed, _) in wiring.items() if topic in subscribed}
        assert actual == set(readers), f"{topic}: read by {actual}, declared {readers}"
