"""The local Kafka broker as a process: address, start, readiness probe, stop, status."""

import contextlib
import os
import re
import signal
import time
from pathlib import Path

from deploy.kafka_acls import ADMIN_USER
from deploy.kafka_passwords import password
from deploy.kafka_probe import kafka_ready as probe_ready
from deploy.local_common import (
    LOGS,
    RUN,
    InfraError,
    cmdline,
    lock,
    pid_alive,
    port_from_env,
    read_props,
    require_port_free,
    say,
    spawn_detached,
    tail,
)
from deploy.local_kafka_setup import (
    KAFKA_CLUSTER_ID_FILE,
    KAFKA_CONFIG,
    KAFKA_DATA,
    KAFKA_HOME,
    KAFKA_LOG,
    ensure_kafka_formatted,
    ensure_kafka_jars,
    jvm,
    write_kafka_config,
)

KAFKA_PID_FILE = RUN / "kafka.pid"
KAFKA_OUT = LOGS / "kafka.out"
KAFKA_START_TIMEOUT = 90.0
KAFKA_STOP_TIMEOUT = 30.0
KAFKA_HEAP = ["-Xms256m", "-Xmx768m"]
# As in kafka-server-start.sh.
KAFKA_GC = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
            "-XX:+ExplicitGCInvokesConcurrent"]
DEFAULT_KAFKA_PORT = 9092


def kafka_port() -> int:
    return port_from_env("BIANMIN_KAFKA_PORT", DEFAULT_KAFKA_PORT)


def kafka_controller_port() -> int:
    return kafka_port() + 1


def _local_kafka_bootstrap() -> str:
    return f"127.0.0.1:{kafka_port()}"


# A value equal to our own address is still ours: after `eval "$(local.py env)"`
# the variables are set, and `down` must keep working.
def kafka_external() -> str | None:
    value = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    return value if value and value != _local_kafka_bootstrap() else None


def kafka_bootstrap() -> str:
    return kafka_external() or _local_kafka_bootstrap()


def _is_our_kafka(pid: int) -> bool:
    cmd = cmdline(pid)
    return "kafka.Kafka" in cmd and str(KAFKA_CONFIG) in cmd


def _kafka_pid() -> int | None:
    """Pid of the broker started from .local, also when the pid file is stale or lost."""
    try:
        pid = int(KAFKA_PID_FILE.read_text().strip())
    except (OSError, ValueError):
        pid = None
    if pid and pid_alive(pid) and _is_our_kafka(pid):
        return pid
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_our_kafka(int(entry.name)) and pid_alive(int(entry.name)):
            RUN.mkdir(parents=True, exist_ok=True)
            KAFKA_PID_FILE.write_text(f"{entry.name}\n")
            return int(entry.name)
    KAFKA_PID_FILE.unlink(missing_ok=True)
    return None


def kafka_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when the broker, asked as the local admin, lists at least one live broker."""
    return probe_ready(host, port, ADMIN_USER, password(ADMIN_USER), timeout)


def _configured_kafka_port() -> int | None:
    listeners = read_props(KAFKA_CONFIG).get("advertised.listeners", "")
    match = re.search(r":(\d+)\s*$", listeners)
    return int(match.group(1)) if match else None


def _kafka_failure_hint(text: str) -> str:
    low = text.lower()
    if any(k in low for k in ("cluster.id", "cluster id", "inconsistent_cluster_id", "meta.properties")):
        return (f"\nhint: the data dir does not fit this broker (formatted for another cluster?); run 'down', "
                f"remove {KAFKA_DATA} and {KAFKA_CLUSTER_ID_FILE} (topics are lost), then 'up' again.")
    if "saslauthenticationexception" in low or "authentication failed" in low:
        return ("\nhint: the admin password in .local/kafka-passwords does not match the broker's storage; run "
                f"'down', remove {KAFKA_DATA}, then 'up' again (topics are lost).")
    if "address already in use" in low:
        return "\nhint: a port is taken; set BIANMIN_KAFKA_PORT to another port."
    if "unsupportedclassversionerror" in low:
        return "\nhint: this java is too old; Kafka 4.1 needs JDK 17+ (set JAVA_HOME)."
    return ""


def launch_kafka():
    """Start the broker if needed. Returns a callable that waits for readiness, or None when reused.

    Caller holds the kafka lock.
    """
    port, controller_port = kafka_port(), kafka_controller_port()
    pid = _kafka_pid()
    if pid is not None:
        running_port = _configured_kafka_port()
        if running_port == port and "sasl.enabled.mechanisms" not in read_props(KAFKA_CONFIG):
            raise InfraError(f"kafka: pid {pid} was started before SASL/ACLs were on; run 'python deploy/local.py down', "
                             "then 'up' again (its data dir is re-formatted, the local topics are lost).")
        if running_port == port:
            deadline = time.monotonic() + KAFKA_START_TIMEOUT
            while not kafka_ready("127.0.0.1", port):
                # Possibly still booting in another process; give it the normal start-up time.
                if not pid_alive(pid) or time.monotonic() > deadline:
                    raise InfraError(
                        f"kafka: pid {pid} is running but not answering on 127.0.0.1:{port}; "
                        f"see {KAFKA_LOG}. 'python deploy/local.py down' stops it."
                    )
                time.sleep(0.2)
            return None
        # Restarting would pull the broker from under whoever else uses it.
        raise InfraError(
            f"kafka: the local broker already runs on port {running_port}, but port {port} was asked for; "
            "run 'python deploy/local.py down' first or use the same BIANMIN_KAFKA_PORT."
        )

    require_port_free(port, "kafka", "BIANMIN_KAFKA_PORT")
    require_port_free(controller_port, "kafka controller", "BIANMIN_KAFKA_PORT")
    ensure_kafka_jars()
    write_kafka_config(port, controller_port)
    ensure_kafka_formatted()

    RUN.mkdir(parents=True, exist_ok=True)
    log_start = KAFKA_LOG.stat().st_size if KAFKA_LOG.exists() else 0
    cmd = [*jvm(*KAFKA_HEAP, *KAFKA_GC), "kafka.Kafka", str(KAFKA_CONFIG)]
    started = time.monotonic()
    pid = spawn_detached(cmd, KAFKA_HOME, KAFKA_OUT)
    KAFKA_PID_FILE.write_text(f"{pid}\n")
    say(f"kafka: starting pid {pid} (log: {KAFKA_LOG})")

    def wait() -> None:
        deadline = started + KAFKA_START_TIMEOUT
        while not kafka_ready("127.0.0.1", port):
            if not pid_alive(pid):
                KAFKA_PID_FILE.unlink(missing_ok=True)
                text = tail(KAFKA_OUT) + "\n" + tail(KAFKA_LOG, start=log_start)
                raise InfraError(f"kafka: broker exited during start-up:\n{text}{_kafka_failure_hint(text)}")
            if time.monotonic() > deadline:
                stop_kafka_locked()
                raise InfraError(
                    f"kafka: not ready within {KAFKA_START_TIMEOUT:.0f} s, stopped it:\n"
                    f"{tail(KAFKA_LOG, start=log_start)}"
                )
            time.sleep(0.2)
        say(f"kafka: ready on 127.0.0.1:{port} in {time.monotonic() - started:.1f} s")

    return wait


def stop_kafka_locked() -> bool:
    pid = _kafka_pid()
    if pid is None:
        return False
    say(f"kafka: stopping pid {pid}")
    # SIGTERM runs a controlled shutdown, which keeps the next start fast (no log recovery).
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + KAFKA_STOP_TIMEOUT
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        say(f"kafka: pid {pid} ignored SIGTERM for {KAFKA_STOP_TIMEOUT:.0f} s, killing it")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    KAFKA_PID_FILE.unlink(missing_ok=True)
    return True


def start_kafka() -> bool:
    """Ensure the local broker runs and answers. True if this call started it."""
    if kafka_external():
        return False
    with lock("kafka"):
        wait = launch_kafka()
        if wait is None:
            return False
        wait()
        return True


def stop_kafka() -> bool:
    """Stop the local broker. True if one was running."""
    if kafka_external():
        return False
    with lock("kafka"):
        return stop_kafka_locked()


def kafka_status() -> tuple[str, bool]:
    """One status line for `local.py status` and whether the broker is healthy."""
    if kafka_external():
        return f"kafka: external KAFKA_BOOTSTRAP_SERVERS={kafka_external()}", True
    pid, port = _kafka_pid(), kafka_port()
    running_port = _configured_kafka_port() if pid else None
    if pid and running_port == port and kafka_ready("127.0.0.1", port):
        return f"kafka: running, pid {pid}, 127.0.0.1:{port}", True
    if pid and running_port != port:
        return f"kafka: running, pid {pid}, but on port {running_port}, not {port}", False
    return f"kafka: {'not answering, pid ' + str(pid) if pid else 'stopped'}", False
