"""Client security from the environment, and the topics a service requires against its ACLs."""

from __future__ import annotations

import pytest
from faststream.security import SASLScram512
from pydantic import ValidationError

from deploy.kafka_acls import SERVICES, service_acls
from services.kit.kafka_security import KafkaSecurity
from services.kit.topics import service_topics

pytestmark = pytest.mark.unit

SCRAM = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "routing", "KAFKA_SASL_PASSWORD": "pw"}


def test_plaintext_by_default_adds_nothing():
    security = KafkaSecurity.from_env({})
    assert security.aiokafka() == {} and security.faststream() is None


def test_scram_settings_reach_aiokafka_and_faststream():
    security = KafkaSecurity.from_env(SCRAM)
    assert security.aiokafka() == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                                   "sasl_plain_username": "routing", "sasl_plain_password": "pw", "ssl_context": None}
    assert isinstance(security.faststream(), SASLScram512)
    assert KafkaSecurity.from_env(security.env()) == security  # what a child process is given round-trips


def test_sasl_ssl_verifies_the_brokers():
    security = KafkaSecurity.from_env({**SCRAM, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    assert security.aiokafka()["ssl_context"].verify_mode.name == "CERT_REQUIRED"


def test_sasl_without_a_password_is_refused_at_start():
    with pytest.raises(ValidationError, match="KAFKA_SASL_PASSWORD"):
        KafkaSecurity.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "routing"})


def test_look_alike_variables_are_not_read():
    assert KafkaSecurity.from_env({"USERNAME": "someone", "PASSWORD": "x", "PROTOCOL": "SASL_SSL"}).protocol == "PLAINTEXT"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_requires_only_topics_its_user_may_describe(service):
    describable = {acl.name for acl in service_acls(service) if acl.resource == "topic" and acl.operation == "Describe"}
    assert service_topics(service) and set(service_topics(service)) <= describable
