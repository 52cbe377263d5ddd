"""Secrets a developer machine keeps under `.local/` (git-ignored): the per-install JWT secret that
`make up`, `make token`, the demo and the bench share, and whatever else a service generates for
local use (audit's development signing key and database password).

BIANMIN_JWT_SECRET wins when set (the test session sets a random one); otherwise the secret is
read from `.local/jwt-secret`, generated there on first use, readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_FILE = ROOT / ".local" / "jwt-secret"


def create_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """The content of `path`, written by the first process to get there (mode 0600).

    The content is written to a draft and linked into place, so a racing process either wins or
    reads a complete file, never a half-written one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_bytes(make())
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process got there first
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes()


def install_secret(path: Path = SECRET_FILE) -> str:
    if os.environ.get("BIANMIN_JWT_SECRET"):
        return os.environ["BIANMIN_JWT_SECRET"]
    return create_once(path, lambda: secrets.token_urlsafe(48).encode()).decode().strip()


def generated_secret(env: str, name: str) -> str:
    """`env` when set, else a secret generated once into `.local/<name>` (like the JWT secret)."""
    if os.environ.get(env):
        return os.environ[env]
    return create_once(SECRET_FILE.with_name(name), lambda: secrets.token_urlsafe(48).encode()).decode().strip()
