"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit.auth import DEV_SECRET
from services.kit.publishable import DEFAULT_MAX_EVENT_BYTES


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:55432/bianmin", validation_alias=AliasChoices("DATABASE_URL"))
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"))
    jwt_secret: SecretStr = Field(default=SecretStr(DEV_SECRET), validation_alias=AliasChoices("BIANMIN_JWT_SECRET"))
    clock_file: str | None = Field(default=None, validation_alias=AliasChoices("BIANMIN_CLOCK_FILE"))
    host: str = "127.0.0.1"
    port: int = 8100
    db_pool_max: int = 10
    # Lets a second copy of the system (e.g. the end-to-end suite) share a broker without
    # splitting partitions with the first one's consumer groups.
    consumer_group_suffix: str = Field(default="", validation_alias=AliasChoices("BIANMIN_CONSUMER_GROUP_SUFFIX"))
    kafka_partitions: int = Field(default=3, validation_alias=AliasChoices("BIANMIN_KAFKA_PARTITIONS"))
    kafka_replication: int = Field(default=1, validation_alias=AliasChoices("BIANMIN_KAFKA_REPLICATION"))
    # An event's serialized size at most; well under the broker's max.message.bytes (1 MiB by default).
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, gt=0,
                                 validation_alias=AliasChoices("BIANMIN_MAX_EVENT_BYTES"))
    # Largest request body accepted; anything bigger is a 413 before it is read (services.kit.edge).
    max_body_bytes: int = Field(default=64 * 1024, ge=1, validation_alias=AliasChoices("BIANMIN_MAX_BODY_BYTES"))
