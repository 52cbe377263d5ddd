"""Audit's own dependencies, built by its app and typed for whoever uses them."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.commands import CheckpointStats
from services.audit.settings import AuditSettings
from services.kit.service import Runtime


@dataclass
class AuditDeps:
    checkpoints: CheckpointStats = field(default_factory=CheckpointStats)
    signing_key: Ed25519PrivateKey | None = None  # loaded at start, before the checkpointer runs


# What this service's handlers and loops are given.
AuditRuntime = Runtime[AuditSettings, AuditDeps]
