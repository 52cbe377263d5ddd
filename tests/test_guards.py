"""Guards: declared topics and the services' subscriptions and publications must agree."""

from __future__ import annotations

import importlib

import pytest

from contracts.events import EVENT_TYPES, AuditCheckpointed
from contracts.topics import EVENT_TOPICS

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
        assert subscribed <= set(EVENT_TOPICS), f"{name} subscribes to undeclared {subscribed - set(EVENT_TOPICS)}"
        assert published <= set(EVENT_TOPICS), f"{name} publishes undeclared {published - set(EVENT_TOPICS)}"


def test_every_declared_topic_has_one_producer_and_a_consumer(wiring):
    for topic in EVENT_TOPICS:
        producers = [n for n, (_, pub) in wiring.items() if topic in pub]
        consumers = [n for n, (sub, _) in wiring.items() if topic in sub]
        assert len(producers) == 1, f"{topic} is published by {producers}"
        assert consumers, f"{topic} is declared but nobody subscribes"


def test_audit_hears_every_event(wiring):
    assert wiring["audit"][0] == set(EVENT_TOPICS)  # its own checkpoints too: they are chained like the rest


def test_audit_publishes_only_its_signed_checkpoints(wiring):
    """Audit records what the others did; all it says itself is the signed head of its chain."""
    assert wiring["audit"][1] == {AuditCheckpointed.TOPIC}


def test_phone_numbers_travel_only_on_topics_notify_needs(wiring):
    carriers = {cls.TOPIC for cls in EVENT_TYPES if cls.CARRIES_PHONE}
    assert carriers <= wiring["notify"][0]
    for cls in EVENT_TYPES:
        payload_fields = cls.model_fields["payload"].annotation.model_fields
        has_phone_field = any("phone" in name for name in payload_fields)
        assert has_phone_field == cls.CARRIES_PHONE, f"{cls.__name__}: phone field and CARRIES_PHONE disagree"
