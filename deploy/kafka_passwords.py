"""Passwords of the local Kafka users: one file per user, generated on first use, owner-only.

They live in `.local/kafka-passwords/` (shared by every BIANMIN_LOCAL_DIR, so the fault suite's
broker and the main one know the same users). `admin` is bootstrapped into the broker's storage when
it is formatted; deploy/kafka_setup.py creates the others through the admin API.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from deploy.local_common import SHARED_LOCAL
from services.kit.local_secret import create_once

LOCAL_PASSWORD_DIR = SHARED_LOCAL / "kafka-passwords"
LOCAL_PROTOCOL = "SASL_PLAINTEXT"  # loopback only; production runs SASL_SSL
LOCAL_MECHANISM = "SCRAM-SHA-512"


def password_file(user: str, directory: Path = LOCAL_PASSWORD_DIR) -> Path:
    return directory / user


def password(user: str, directory: Path = LOCAL_PASSWORD_DIR) -> str:
    """The user's password, generated once. URL-safe characters only: it is quoted into JAAS and
    kafka-storage's `--add-scram name=…,password=…` unescaped."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    return create_once(password_file(user, directory), lambda: secrets.token_urlsafe(24).encode()).decode().strip()


def fingerprint(secret: str) -> str:
    """What the broker's data dir records of the admin password it was formatted with."""
    return hashlib.sha256(secret.encode()).hexdigest()


def local_env(user: str, directory: Path = LOCAL_PASSWORD_DIR) -> dict[str, str]:
    """KAFKA_* variables (services.kit.kafka_security) for connecting to the local broker as `user`."""
    return {"KAFKA_SECURITY_PROTOCOL": LOCAL_PROTOCOL, "KAFKA_SASL_MECHANISM": LOCAL_MECHANISM,
            "KAFKA_SASL_USERNAME": user, "KAFKA_SASL_PASSWORD": password(user, directory)}
