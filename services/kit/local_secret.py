"""The per-install JWT secret of a developer machine: `make up`, `make token`, the demo and the bench share it.

BIANMIN_JWT_SECRET wins when set (the test session sets a random one); otherwise the secret is
read from `.local/jwt-secret` (git-ignored), generated there on first use, readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_FILE = ROOT / ".local" / "jwt-secret"


def install_secret(path: Path = SECRET_FILE) -> str:
    if os.environ.get("BIANMIN_JWT_SECRET"):
        return os.environ["BIANMIN_JWT_SECRET"]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes racing to create it keep the first one's secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()
