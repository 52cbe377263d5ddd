"""How every Kafka client of bianmin authenticates: the one place that turns the environment into
client security, for FastStream's KafkaBroker and for raw aiokafka clients alike.

    KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default) | SASL_PLAINTEXT | SASL_SSL
    KAFKA_SASL_MECHANISM      SCRAM-SHA-512 (default) | SCRAM-SHA-256
    KAFKA_SASL_USERNAME       the Kafka user: each service its own, tools and tests `admin`
    KAFKA_SASL_PASSWORD
    KAFKA_SSL_CAFILE          CA bundle that signed the brokers' certificates (SASL_SSL); system CAs if unset

The local Kafka (`make up`, the suites) always runs SASL/SCRAM with ACLs; deploy/kafka_setup.py
makes its users and prints the variables for any of them.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator

Protocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]


ENV_NAMES = ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD",
             "KAFKA_SSL_CAFILE")


class KafkaSecurity(BaseModel):
    # Built from the exact names above or the field names, never from look-alikes such as USERNAME.
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    protocol: Protocol = Field(default="PLAINTEXT", validation_alias=AliasChoices("KAFKA_SECURITY_PROTOCOL"))
    mechanism: Mechanism = Field(default="SCRAM-SHA-512", validation_alias=AliasChoices("KAFKA_SASL_MECHANISM"))
    username: str | None = Field(default=None, validation_alias=AliasChoices("KAFKA_SASL_USERNAME"))
    password: SecretStr | None = Field(default=None, validation_alias=AliasChoices("KAFKA_SASL_PASSWORD"))
    cafile: str | None = Field(default=None, validation_alias=AliasChoices("KAFKA_SSL_CAFILE"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> KafkaSecurity:
        return cls.model_validate({name: env[name] for name in ENV_NAMES if env.get(name)})

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSecurity:
        # Refuse at start-up rather than let the client fail its handshake over and over.
        if self.sasl and not (self.username and self.password and self.password.get_secret_value()):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        return self

    @property
    def sasl(self) -> bool:
        return self.protocol != "PLAINTEXT"

    def _ssl_context(self) -> ssl.SSLContext | None:
        return create_ssl_context(cafile=self.cafile) if self.protocol == "SASL_SSL" else None

    def _secret(self) -> str:
        return self.password.get_secret_value() if self.password else ""

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        if not self.sasl:
            return {}
        return {"security_protocol": self.protocol, "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username, "sasl_plain_password": self._secret(),
                "ssl_context": self._ssl_context()}

    def faststream(self) -> BaseSecurity | None:
        """The `security=` of FastStream's KafkaBroker."""
        if not self.sasl:
            return None
        kind = SASLScram512 if self.mechanism == "SCRAM-SHA-512" else SASLScram256
        return kind(self.username or "", self._secret(), ssl_context=self._ssl_context(),
                    use_ssl=self.protocol == "SASL_SSL")

    def librdkafka(self) -> dict[str, str]:
        """Configuration keys of librdkafka clients (confluent-kafka, kcat)."""
        if not self.sasl:
            return {"security.protocol": "plaintext"}
        conf = {"security.protocol": self.protocol.lower(), "sasl.mechanism": self.mechanism,
                "sasl.username": self.username or "", "sasl.password": self._secret()}
        if self.protocol == "SASL_SSL" and self.cafile:
            conf["ssl.ca.location"] = self.cafile
        return conf

    def env(self) -> dict[str, str]:
        """The variables above, for a child process that must connect as this user."""
        env: dict[str, str] = {"KAFKA_SECURITY_PROTOCOL": self.protocol}
        if self.sasl:
            env |= {"KAFKA_SASL_MECHANISM": self.mechanism, "KAFKA_SASL_USERNAME": self.username or "",
                    "KAFKA_SASL_PASSWORD": self._secret()}
        if self.cafile:
            env["KAFKA_SSL_CAFILE"] = self.cafile
        return env


def kafka_security() -> KafkaSecurity:
    """Read from the environment on every call: the test session sets it once the broker is up."""
    return KafkaSecurity.from_env()


def kafka_client_options() -> dict[str, Any]:
    """`**kafka_client_options()` in every aiokafka client made outside a service."""
    return kafka_security().aiokafka()
