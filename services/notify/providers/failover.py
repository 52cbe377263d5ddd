"""A primary provider and a secondary one: a technical failure at the primary (credentials, outage,
an unmapped template) hands the same message to the secondary at once. A temporary or permanent
refusal does not (the secondary's carrier would refuse alike), nor does an unknown outcome (the
primary may have sent it: resending elsewhere could text the resident twice)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.notify.providers.classify import Accepted, ProviderError

log = logging.getLogger(__name__)


class Sender(Protocol):
    name: str

    async def send(self, *, message_id: UUID, phone: str, text: str, template_code: str = "",
                   params: Mapping[str, object] | None = None) -> str: ...


class Finder(Protocol):
    async def find(self, *, message_id: UUID, phone: str, since: datetime) -> str | None: ...


class FailoverProvider:
    def __init__(self, primary: Sender, secondary: Sender) -> None:
        self.primary, self.secondary, self.name = primary, secondary, primary.name

    async def send(self, *, message_id: UUID, phone: str, text: str, template_code: str = "",
                   params: Mapping[str, object] | None = None) -> str:
        try:
            return await self.primary.send(message_id=message_id, phone=phone, text=text,
                                           template_code=template_code, params=params)
        except ProviderError as exc:
            if exc.kind != "technical":
                raise
            log.warning("sms provider failed; trying the secondary",
                        extra={"message_id": str(message_id), "provider": self.primary.name,
                               "secondary": self.secondary.name, "code": exc.code})
        result = await self.secondary.send(message_id=message_id, phone=phone, text=text,
                                           template_code=template_code, params=params)
        return result if isinstance(result, Accepted) else Accepted(result, provider=self.secondary.name)

    def member(self, name: str) -> Sender | None:
        return next((p for p in (self.primary, self.secondary) if p.name == name), None)


def provider_named(provider: object, name: str) -> object | None:
    """The provider called `name`, inside a failover pair or alone."""
    if isinstance(provider, FailoverProvider):
        return provider.member(name)
    return provider if getattr(provider, "name", None) == name else None


def sent_by(provider: Sender, provider_message_id: str) -> str:
    """Which provider took the message: the one the id says, else the provider asked."""
    return provider_message_id.provider if isinstance(provider_message_id, Accepted) else provider.name
