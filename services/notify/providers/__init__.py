"""SMS providers behind one Protocol; NOTIFY_SMS_PROVIDER picks one at start, NOTIFY_SMS_SECONDARY the one a
technical failure fails over to (failover.py). Adapters: alibaba.py, tencent.py; failure classes: classify.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

import asyncpg
import httpx

from services.kit.clock import Clock, SystemClock
from services.notify import store
from services.notify.providers.alibaba import AlibabaSms
from services.notify.providers.config import load_templates
from services.notify.providers.failover import FailoverProvider
from services.notify.providers.tencent import TencentSms

if TYPE_CHECKING:  # the settings hold the providers' own settings (config.py)
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


def build_provider(settings: NotifySettings, pool: asyncpg.Pool, clock: Clock | None = None) -> SmsProvider:
    primary = _build_one(settings.sms_provider, settings, pool, clock or SystemClock())
    if settings.sms_secondary is None or settings.sms_secondary == settings.sms_provider:
        return primary
    return FailoverProvider(primary, _build_one(settings.sms_secondary, settings, pool, clock or SystemClock()))


def _build_one(name: str, settings: NotifySettings, pool: asyncpg.Pool, clock: Clock) -> SmsProvider:
    if name == "dev":
        return DevSmsProvider(pool)
    config = settings.providers
    client = httpx.AsyncClient(timeout=config.sms_http_timeout)  # one per provider, for the life of the process
    templates = load_templates(config.sms_templates_file)
    match name:
        case "alibaba":
            return AlibabaSms(config, templates.alibaba, client, clock)
        case "tencent":
            return TencentSms(config, templates.tencent, client, clock)
    raise ValueError(f"unknown SMS provider {name!r}")
