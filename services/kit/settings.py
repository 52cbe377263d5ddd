"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_TTL
from services.kit.eventstore import DEFAULT_NOTIFY_INTERVAL
from services.kit.inbox import DEFAULT_CONSUME_BATCH
from services.kit.kafka_security import KafkaSecurity
from services.kit.publishable import DEFAULT_MAX_EVENT_BYTES


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:55432/bianmin", validation_alias=AliasChoices("DATABASE_URL"))
    # One address or a comma-separated list (a cluster): see `kafka_servers`.
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"))
    # From KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_CAFILE (services.kit.kafka_security).
    kafka_security: KafkaSecurity = Field(default_factory=KafkaSecurity.from_env)
    # "development" alone lets a service start without a JWT key (it then accepts the public dev secret).
    environment: Literal["production", "development"] = Field(
        default="production", validation_alias=AliasChoices("BIANMIN_ENV"))
    jwt_secret: SecretStr | None = Field(default=None, validation_alias=AliasChoices("BIANMIN_JWT_SECRET"))
    jwt_public_key_file: str | None = Field(default=None, validation_alias=AliasChoices("BIANMIN_JWT_PUBLIC_KEY_FILE"))
    jwt_issuer: str = Field(default=DEFAULT_ISSUER, validation_alias=AliasChoices("BIANMIN_JWT_ISSUER"))
    jwt_audience: str = Field(default=DEFAULT_AUDIENCE, validation_alias=AliasChoices("BIANMIN_JWT_AUDIENCE"))
    jwt_max_ttl_seconds: int = Field(default=int(DEFAULT_TTL.total_seconds()), gt=0,
                                     validation_alias=AliasChoices("BIANMIN_JWT_MAX_TTL_SECONDS"))
    clock_file: str | None = Field(default=None, validation_alias=AliasChoices("BIANMIN_CLOCK_FILE"))
    host: str = "127.0.0.1"
    port: int = 8100
    db_pool_max: int = 10
    # Lets a second copy of the system (e.g. the end-to-end suite) share a broker without
    # splitting partitions with the first one's consumer groups.
    consumer_group_suffix: str = Field(default="", validation_alias=AliasChoices("BIANMIN_CONSUMER_GROUP_SUFFIX"))
    # Overload: requests in flight per process (more wait `in_flight_wait_seconds`, then 503), and how
    # long a request waits for a database connection before 503 DATABASE_BUSY.
    max_in_flight: int = Field(default=64, gt=0, validation_alias=AliasChoices("BIANMIN_MAX_IN_FLIGHT"))
    in_flight_wait_seconds: float = Field(default=0.25, ge=0, validation_alias=AliasChoices("BIANMIN_IN_FLIGHT_WAIT_SECONDS"))
    db_acquire_timeout: float = Field(default=1.0, gt=0, validation_alias=AliasChoices("BIANMIN_DB_ACQUIRE_TIMEOUT"))
    # Readiness: the relay is stuck when rows wait this long and none was published for as long.
    relay_stuck_seconds: float = Field(default=60.0, gt=0, validation_alias=AliasChoices("BIANMIN_RELAY_STUCK_SECONDS"))
    relay_failures_tolerated: int = Field(default=5, gt=0, validation_alias=AliasChoices("BIANMIN_RELAY_FAILURES_TOLERATED"))
    # An event's serialized size at most; well under the broker's max.message.bytes (1 MiB by default).
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, gt=0,
                                 validation_alias=AliasChoices("BIANMIN_MAX_EVENT_BYTES"))
    # Seconds between two refreshes of the gauges read from PostgreSQL and Kafka (outbox, dead letters, lag).
    metrics_refresh_seconds: float = Field(default=15.0, gt=0, validation_alias=AliasChoices("BIANMIN_METRICS_REFRESH_SECONDS"))
    # Events consumed and applied per transaction (services.kit.inbox); 1 applies each on its own.
    consume_batch: int = Field(default=DEFAULT_CONSUME_BATCH, ge=1, le=10_000,
                               validation_alias=AliasChoices("BIANMIN_CONSUME_BATCH"))
    # Largest request body accepted; anything bigger is a 413 before it is read (services.kit.edge).
    max_body_bytes: int = Field(default=64 * 1024, ge=1, validation_alias=AliasChoices("BIANMIN_MAX_BODY_BYTES"))
    # The outbox's wake-ups (ADR 38): at most one NOTIFY per this many seconds from a process (0: one per
    # append), and the relay's idle poll, which finds rows appended inside that interval.
    outbox_notify_seconds: float = Field(default=DEFAULT_NOTIFY_INTERVAL, ge=0,
                                         validation_alias=AliasChoices("BIANMIN_OUTBOX_NOTIFY_SECONDS"))
    relay_poll_seconds: float = Field(default=0.05, gt=0, validation_alias=AliasChoices("BIANMIN_RELAY_POLL_SECONDS"))

    @property
    def kafka_servers(self) -> list[str]:
        """The bootstrap addresses one by one: FastStream takes a str as one address, commas and all,
        while aiokafka's own clients split it."""
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]
