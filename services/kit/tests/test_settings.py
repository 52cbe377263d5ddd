"""Settings every service shares: what the environment may hold."""

import pytest

from services.kit.service import make_broker
from services.kit.settings import ServiceSettings

pytestmark = pytest.mark.unit


def test_a_comma_separated_bootstrap_list_reaches_the_broker_address_by_address(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9094, 127.0.0.1:9096,127.0.0.1:9098")
    settings = ServiceSettings()
    assert settings.kafka_servers == ["127.0.0.1:9094", "127.0.0.1:9096", "127.0.0.1:9098"]
    broker = make_broker(settings, "test")
    # The consumers are built from this partial of AIOKafkaConsumer.
    assert broker.config.builder.keywords["bootstrap_servers"] == settings.kafka_servers


def test_one_address_is_a_list_of_one(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.county.local:9092")
    assert ServiceSettings().kafka_servers == ["kafka.county.local:9092"]
