"""Starts and stops the four services as processes (make up / make down, end-to-end tests, benchmarks)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, sys.path holds deploy/ instead of the repo root
    sys.path.insert(0, str(ROOT))

from deploy.kafka_passwords import local_env  # noqa: E402
from deploy.local_common import cmdline, pid_alive, tail  # noqa: E402
from services.kit.shutdown import TOTAL_SECONDS  # noqa: E402

SHUTDOWN_TIMEOUT = TOTAL_SECONDS + 10  # the service's own bounded shutdown, and a margin on a busy machine

RUN_DIR = ROOT / ".local" / "run"
LOG_DIR = ROOT / ".local" / "logs"
SERVICES: dict[str, int] = {"intake": 8101, "routing": 8102, "notify": 8103, "audit": 8104}


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    pid_path: Path
    proc: subprocess.Popen | None = None
    pid: int | None = None
    module: str = ""  # services.<module>; a second instance of a service has its own name, the same module

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", f"services.{self.module or self.name}"], cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        self.pid_path.write_text(str(self.pid))

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as resp:
                return resp.status == 200
        except Exception:
            return False

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _pid_alive(self.pid)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited during start-up; see {self.log_path}:\n{tail(self.log_path, 30)}")
            if self.ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no flushing — what a crash looks like."""
        if self.pid and self.alive():
            os.kill(self.pid, signal.SIGKILL)
            if self.proc:
                self.proc.wait(10)

    def stop(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """SIGTERM, and SIGKILL if the process outlives its own bounded shutdown (the log's tail says
        which step hung); either way the process is gone (and reaped) when this returns."""
        if not self.pid or not self.alive():
            self.pid_path.unlink(missing_ok=True)
            return
        os.kill(self.pid, signal.SIGTERM)
        if not self._wait_gone(timeout):
            print(f"{self.name} still running {timeout:.0f}s after SIGTERM; killing it. Its log ends:\n"
                  f"{tail(self.log_path, 30)}", file=sys.stderr, flush=True)
            os.kill(self.pid, signal.SIGKILL)
            self._wait_gone(10.0)
        self.pid_path.unlink(missing_ok=True)

    def _wait_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            if self.proc:
                try:
                    self.proc.wait(0.2)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.2)
        return not self.alive()


@dataclass
class System:
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self, names: list[str] | None = None) -> None:
        for name in names or list(self.services):
            self.services[name].start()
        for name in names or list(self.services):
            self.services[name].wait_ready()

    def stop(self) -> None:
        for svc in self.services.values():
            svc.stop()

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]


def build_system(*, kafka: str, database_url: str, port_offset: int = 0, extra_env: dict[str, str] | None = None,
                 log_dir: Path = LOG_DIR, run_dir: Path = RUN_DIR,
                 kafka_user_env: Callable[[str], dict[str, str]] | None = None,
                 instances: dict[str, int] | None = None) -> System:
    """`kafka_user_env(service)` gives each service the KAFKA_* variables of its own Kafka user
    (deploy.kafka_passwords.local_env on the local broker); without it they inherit the caller's.
    `instances` starts more than one process of a service (same consumer group, ports 100 apart),
    named e.g. "routing-2"."""
    from services.kit.local_secret import generated_secret, install_secret

    base = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka, "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT), "BIANMIN_JWT_SECRET": install_secret(),
            "INTAKE_RATING_LINK_SECRET": generated_secret("INTAKE_RATING_LINK_SECRET", "rating-link-secret"),
            **(extra_env or {})}
    system = System()
    for name, port in SERVICES.items():
        env = {**base, **(kafka_user_env(name) if kafka_user_env else {}), f"{name.upper()}_PORT": str(port + port_offset)}
        system.services[name] = ServiceProcess(name=name, port=port + port_offset, env=env,
                                               log_path=log_dir / f"{name}.log", pid_path=run_dir / f"{name}.pid")
        for n in range(2, (instances or {}).get(name, 1) + 1):
            extra, extra_port = f"{name}-{n}", port + port_offset + 100 * (n - 1)
            system.services[extra] = ServiceProcess(
                name=extra, module=name, port=extra_port, env={**env, f"{name.upper()}_PORT": str(extra_port)},
                log_path=log_dir / f"{extra}.log", pid_path=run_dir / f"{extra}.pid")
    return system


def _pid_alive(pid: int) -> bool:
    """Alive and still one of our services, not a zombie or a reused pid."""
    return pid_alive(pid) and any(part.startswith("services.") for part in cmdline(pid))


def up() -> int:
    from deploy import local

    infra = local.ensure_infra()
    system = build_system(kafka=infra.kafka_bootstrap, database_url=infra.database_url,
                          kafka_user_env=None if local.kafka_external() else local_env,
                          extra_env={"BIANMIN_CLOCK_FILE": os.environ.get("BIANMIN_CLOCK_FILE",
                                                                          str(ROOT / ".local" / "clock-offset"))})
    for svc in system.services.values():
        if svc.pid_path.exists() and _pid_alive(int(svc.pid_path.read_text() or 0)):
            svc.pid = int(svc.pid_path.read_text())
            print(f"{svc.name:8s} already running  {svc.url}  (pid {svc.pid}, log {svc.log_path.relative_to(ROOT)})")
            continue
        svc.start()
    for svc in system.services.values():
        svc.wait_ready()
        print(f"{svc.name:8s} listening on {svc.url}  (docs {svc.url}/docs, log {svc.log_path.relative_to(ROOT)})")
    return 0


def down() -> int:
    system = build_system(kafka="", database_url="")
    for svc in system.services.values():
        if svc.pid_path.exists():
            try:
                svc.pid = int(svc.pid_path.read_text() or 0)
            except ValueError:
                svc.pid = None
            svc.stop()
            print(f"{svc.name:8s} stopped")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the four bianmin services as processes.")
    parser.add_argument("command", choices=["up", "down"])
    return up() if parser.parse_args().command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
