"""The fault suite's own Kafka and PostgreSQL, which it kills and restarts.

They are the same local provisioning as `make up` (deploy/local.py), run in a child process with
BIANMIN_LOCAL_DIR pointing at `.local/faults` and their own ports, so the main suite's broker and
server (and a developer's `make up`) are never touched. deploy's paths are fixed when it is
imported, hence the child process per operation.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAULT_DIR = ROOT / ".local" / "faults"
REPORT = ROOT / ".local" / "fault-report.txt"


def _port(name: str, base_name: str, base_default: int, shift: int = 100) -> int:
    """BIANMIN_FAULT_* if set, else the main suite's port shifted by `shift`, so two suites never meet."""
    raw = os.environ.get(name)
    return int(raw) if raw else int(os.environ.get(base_name, base_default)) + shift


KAFKA_PORT = _port("BIANMIN_FAULT_KAFKA_PORT", "BIANMIN_KAFKA_PORT", 9092)  # controller: port + 1
PG_PORT = _port("BIANMIN_FAULT_PG_PORT", "BIANMIN_PG_PORT", 55432)
SERVICE_PORT_OFFSET = _port("BIANMIN_FAULT_PORT_OFFSET", "BIANMIN_E2E_PORT_OFFSET", 10000)


@dataclass(frozen=True)
class FaultInfra:
    kafka_bootstrap: str = f"127.0.0.1:{KAFKA_PORT}"
    database_url: str = f"postgresql://postgres@127.0.0.1:{PG_PORT}/bianmin"

    # ---- lifecycle, each in a child process that sees only the fault suite's settings

    def start(self) -> None:
        _deploy("local.ensure_infra()")

    def stop(self) -> None:
        _deploy("local.stop_infra()")

    def start_kafka(self) -> None:
        _deploy("local.start_kafka()")

    def start_postgres(self) -> None:
        _deploy("local.start_postgres()")

    # ---- faults

    def kill_kafka(self) -> int:
        """kill -9 of the broker JVM: no controlled shutdown, log recovery on the next start."""
        pid = int((FAULT_DIR / "run" / "kafka.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        return pid

    def crash_postgres(self) -> None:
        """pg_ctl stop -m immediate: every backend quits at once, crash recovery on the next start."""
        _deploy("local.stop_postgres(mode='immediate')")


def wipe() -> None:
    """A fresh broker and cluster per session: no checkpoints or groups left from an earlier run."""
    for sub in ("kafka", "pg"):
        shutil.rmtree(FAULT_DIR / sub, ignore_errors=True)


def _env(local_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env.update(BIANMIN_LOCAL_DIR=str(local_dir), BIANMIN_KAFKA_PORT=str(KAFKA_PORT), BIANMIN_PG_PORT=str(PG_PORT),
               PYTHONPATH=str(ROOT), **extra)
    return env


def deploy_call(call: str, *, module: str = "local", local_dir: Path = FAULT_DIR,
                extra_env: dict[str, str] | None = None) -> str:
    """Runs `call` with `deploy.<module>` imported in a child process; returns what it printed."""
    res = subprocess.run([sys.executable, "-c", f"from deploy import {module}; {call}"], cwd=ROOT,
                         env=_env(local_dir, extra_env or {}), capture_output=True, text=True, timeout=240, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"fault infra: {call} failed:\n{res.stdout}\n{res.stderr}")
    return res.stdout


def _deploy(call: str) -> None:
    deploy_call(call)
