"""Notify's own dependencies, built by its app and typed for whoever uses them."""

from __future__ import annotations

from dataclasses import dataclass

from services.notify.providers import SmsProvider


@dataclass
class NotifyDeps:
    # Wired at start (it needs the pool); tests put their fake in the same place before the sender's first round.
    provider: SmsProvider | None = None
