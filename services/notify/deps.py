"""Notify's own dependencies, built by its app and typed for whoever uses them."""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.service import Runtime
from services.notify.providers import SmsProvider
from services.notify.settings import NotifySettings


@dataclass
class NotifyDeps:
    # Wired at start (it needs the pool); tests put their fake in the same place before the sender's first round.
    provider: SmsProvider | None = None


# What this service's handlers and loops are given.
NotifyRuntime = Runtime[NotifySettings, NotifyDeps]
