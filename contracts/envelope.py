"""The envelope every bianmin event travels in (docs/architecture.md, "Events")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal
from uuid import UUID

import uuid6
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Source = Literal["intake", "routing", "notify", "audit"]
ActorKind = Literal["staff", "village_agent", "centre_head", "inspector", "admin", "resident", "system"]


class Actor(BaseModel):
    """Who caused the event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActorKind = Field(description="Role of the actor; `system` for timers and relays.", examples=["staff"])
    id: str = Field(max_length=64, description="Staff id, agent id or service name.", examples=["staff-0012"])


class Payload(BaseModel):
    """Base of every typed payload: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def new_event_id() -> UUID:
    """Time-ordered UUID (v7), so ids sort roughly by creation time."""
    return UUID(int=uuid6.uuid7().int)  # a plain UUID; via int, not its text (cheaper)


class Envelope(BaseModel):
    """Common fields of every event. Subclasses fix `event_type` and type `payload`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TOPIC: ClassVar[str]
    SCHEMA_VERSION: ClassVar[str] = "1.0"

    event_id: UUID = Field(description="Unique, time-ordered (UUIDv7) id of this event.",
                           examples=["01936f6e-1d2a-7c3b-9a4f-2b6c8d0e1f23"])
    event_type: str = Field(description="Name of the event type.", examples=["CaseSubmitted"])
    schema_version: str = Field(description="Schema version of this event type, `major.minor`.", examples=["1.0"])
    occurred_at: AwareDatetime = Field(description="When it happened, UTC.", examples=["2026-11-23T02:15:00Z"])
    source: Source = Field(description="Service that produced the event.", examples=["intake"])
    case_id: UUID = Field(description="The case this event belongs to; also the Kafka key.",
                          examples=["01936f6e-0000-7000-8000-000000000001"])
    stream_version: int = Field(ge=1, description="1, 2, 3 … per case per source service, without gaps.", examples=[1])
    township_id: str = Field(max_length=32, description="Township centre that owns the case.", examples=["qingshui"])
    actor: Actor = Field(description="Who caused the event.")
    correlation_id: UUID = Field(description="Id shared by every event of one business flow (the case id).",
                                 examples=["01936f6e-0000-7000-8000-000000000001"])
    causation_id: UUID | None = Field(default=None, description="Event id that caused this one; null for a person's command.",
                                      examples=[None])
    payload: Payload = Field(description="Typed content of the event.")

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    def kafka_headers(self) -> dict[str, str]:
        return {"event_type": self.event_type, "schema_version": self.schema_version}


@dataclass(frozen=True)
class NewEvent:
    """An event decided by a domain module, before the store numbers and stamps it."""

    type: type[Envelope]
    payload: Payload
