"""Audit's own dependencies, built by its app and typed for whoever uses them."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.audit.commands import CheckpointStats
from services.audit.settings import AuditSettings
from services.kit.service import Runtime


@dataclass
class AuditDeps:
    checkpoints: CheckpointStats = field(default_factory=CheckpointStats)
    signing_key: Ed25519PrivateKey | None = None  # loaded at start, before the checkpointer runs
    # AUDIT_RETIRED_PUBLIC_KEYS_FILE: earlier signing keys' public keys, listed so their heads still verify
    retired_keys: list[Ed25519PublicKey] = field(default_factory=list)


# What this service's handlers and loops are given.
AuditRuntime = Runtime[AuditSettings, AuditDeps]
