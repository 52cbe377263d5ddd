"""What notify announces of a message after it was handed over: delivered, or failed for good."""

from __future__ import annotations

from contracts.envelope import NewEvent
from contracts.events import (
    NotificationDelivered,
    NotificationDeliveredPayload,
    NotificationFailed,
    NotificationFailedPayload,
)
from contracts.personal_data import mask_phone
from services.notify.domain import QueuedMessage
from services.notify.providers.classify import FailureKind


def decide_delivered(message: QueuedMessage, *, provider: str, code: str) -> list[NewEvent]:
    return [NewEvent(NotificationDelivered, NotificationDeliveredPayload(
        message_id=message.message_id, recipient_kind=message.recipient_kind, template_code=message.template_code,
        trigger_event_id=message.trigger_event_id, provider=provider, provider_code=code))]


def decide_failed(message: QueuedMessage, *, provider: str | None, failure: FailureKind, code: str) -> list[NewEvent]:
    """The phone travels only masked, as in NotificationSent (it may be a copy masked on erasure already)."""
    masked = message.phone if "*" in message.phone else mask_phone(message.phone)
    return [NewEvent(NotificationFailed, NotificationFailedPayload(
        message_id=message.message_id, recipient_kind=message.recipient_kind, recipient_masked=masked,
        template_code=message.template_code, trigger_event_id=message.trigger_event_id, provider=provider,
        failure=failure, provider_code=code))]
