"""The public keys checkpoints may be signed with: the current one and retired ones, by key_id.

Rotation: a new AUDIT_SIGNING_KEY_FILE signs from then on; the old public key goes into
AUDIT_RETIRED_PUBLIC_KEYS_FILE (a PEM bundle), so heads it signed still verify."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.checkpoints import key_id, load_public_pem

_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.DOTALL)


def public_keys_in(bundle: bytes) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key of a PEM bundle; ValueError when there is none or one is not Ed25519."""
    blocks = _PEM_BLOCK.findall(bundle)
    if not blocks:
        raise ValueError("no PEM public key found")
    return [load_public_pem(block) for block in blocks]


def keyring(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id(k): k for k in keys}


def load_keyring(paths: Iterable[Path]) -> dict[str, Ed25519PublicKey]:
    """Keys from PEM files, or from every *.pem of a directory."""
    keys: list[Ed25519PublicKey] = []
    for path in paths:
        files = sorted(path.glob("*.pem")) if path.is_dir() else [path]
        for file in files:
            keys += public_keys_in(file.read_bytes())
    return keyring(keys)


def load_retired(path: str | None) -> list[Ed25519PublicKey]:
    return public_keys_in(Path(path).read_bytes()) if path else []
