"""A service without its own JWT key refuses to start: one English line for county IT, a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.services import SERVICES

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def start(service: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BIANMIN_JWT") and k != "BIANMIN_ENV"}
    return subprocess.run([sys.executable, "-m", f"services.{service}"], cwd=ROOT, env=clean | env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("service", list(SERVICES))
def test_no_key_no_start(service):
    done = start(service)
    assert done.returncode == 78
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"bianmin {service}: refusing to start: no JWT key: set BIANMIN_JWT_SECRET")


@pytest.mark.parametrize(("env", "words"), [
    ({"BIANMIN_JWT_SECRET": "too-short"}, "BIANMIN_JWT_SECRET is too short"),
    ({"BIANMIN_JWT_SECRET": "bianmin-development-secret-change-me"}, "public development secret"),
    ({"BIANMIN_JWT_PUBLIC_KEY_FILE": "/nonexistent.pem"}, "BIANMIN_JWT_PUBLIC_KEY_FILE /nonexistent.pem"),
])
def test_unsafe_keys_no_start(env, words):
    done = start("intake", **env)
    assert done.returncode == 78 and len(done.stderr.strip().splitlines()) == 1 and words in done.stderr, done.stderr
