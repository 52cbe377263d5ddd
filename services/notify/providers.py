"""SMS providers behind one Protocol; the setting NOTIFY_SMS_PROVIDER picks one at start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from uuid import UUID

import asyncpg

from services.notify import store
from services.notify.settings import NotifySettings


class SmsProvider(Protocol):
    name: str

    async def send(self, *, message_id: UUID, phone: str, text: str, template_code: str = "",
                   params: Mapping[str, object] | None = None) -> str:
        """Hand one SMS over and return the provider's message id.

        `text` is the rendered message (our record, the dev provider); a real provider sends its own
        pre-registered template, found by our `template_code`, filled with `params`.
        `message_id` is the idempotency key: a repeated call with the same id must not send twice.
        """
        ...


class DevSmsProvider:
    """Records messages in `dev_sms_log` instead of sending them (development, demo, tests)."""

    name = "dev"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def send(self, *, message_id: UUID, phone: str, text: str, template_code: str = "",
                   params: Mapping[str, object] | None = None) -> str:
        async with self._pool.acquire() as conn:
            await store.record_dev_sms(conn, message_id=message_id, phone=phone, text=text)
        return f"dev-{message_id}"


def build_provider(settings: NotifySettings, pool: asyncpg.Pool) -> SmsProvider:
    match settings.sms_provider:
        case "dev":
            return DevSmsProvider(pool)
    raise ValueError(f"unknown SMS provider {settings.sms_provider!r}")
