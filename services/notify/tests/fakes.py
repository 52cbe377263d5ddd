"""Fake SMS providers for tests, swapped in at the same seam the app wires the real one."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from uuid import UUID

from services.notify.providers import SmsProvider


class ProviderDown(Exception):
    """What a failing provider raises."""


class ScriptedProvider:
    """Wraps a provider; fails the first N calls for the phones it is told about (None: always)."""

    def __init__(self, inner: SmsProvider, *, delay: float = 0.0) -> None:
        self.inner, self.name, self._delay = inner, inner.name, delay
        self._failures: dict[str, int | None] = {}
        self.calls: Counter[UUID] = Counter()

    def fail(self, phone: str, times: int | None) -> None:
        self._failures[phone] = times

    async def send(self, *, message_id: UUID, phone: str, text: str, template_code: str = "",
                   params: Mapping[str, object] | None = None) -> str:
        self.calls[message_id] += 1
        await asyncio.sleep(self._delay)  # a slow gateway, so concurrent senders overlap
        if phone in self._failures:
            times = self._failures[phone]
            if times is None or self.calls[message_id] <= times:
                raise ProviderDown(f"gateway unavailable (call {self.calls[message_id]})")
        return await self.inner.send(message_id=message_id, phone=phone, text=text, template_code=template_code,
                                     params=params)
