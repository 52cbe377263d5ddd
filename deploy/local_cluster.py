#!/usr/bin/env python3
"""A local three-node Kafka cluster (KRaft, each node broker and controller, three voters), for trying
replication and broker failure on one machine. Same Maven jars as the single broker of deploy/local.py.

    python deploy/local_cluster.py up         start the missing nodes, wait until all three brokers are live
    python deploy/local_cluster.py down       stop all nodes
    python deploy/local_cluster.py status     exit code 0 when all three answer, 3 otherwise
    python deploy/local_cluster.py env        export lines for the services (bootstrap list, replication 3)
    python deploy/local_cluster.py kill N     SIGKILL of node N (1-3): a crash, no controlled shutdown
    python deploy/local_cluster.py start N    start node N again on its data and wait until it is back

Environment:
    BIANMIN_CLUSTER_PORT  broker port of node 1 (default BIANMIN_KAFKA_PORT + 2, i.e. 9094, so the
                          cluster runs beside `make up`); node N: broker port + 2(N-1), controller + 1
    BIANMIN_LOCAL_DIR     as for deploy/local.py; the nodes live in <dir>/cluster/node-N

Plaintext only. For SASL, `_node_config` is where each node would get a SASL listener (and a
CONTROLLER listener mapped to SASL too), with the JAAS settings of the single broker.
Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if not __package__:
    _ROOT = str(Path(__file__).resolve().parent.parent)
    if _ROOT not in sys.path:
        sys.path.insert(0, _ROOT)

from deploy.kafka_probe import kafka_ready  # noqa: E402
from deploy.local_common import (  # noqa: E402
    LOCAL,
    LOGS,
    RUN,
    InfraError,
    cmdline,
    lock,
    pid_alive,
    port_busy,
    port_from_env,
    read_props,
    require_port_free,
    say,
    spawn_detached,
    tail,
)
from deploy.local_kafka import KAFKA_GC, kafka_port  # noqa: E402
from deploy.local_kafka_setup import _new_cluster_id, ensure_kafka_jars, jvm, log4j_config  # noqa: E402

NODES = (1, 2, 3)
CLUSTER_HOME = LOCAL / "cluster"
CLUSTER_ID_FILE = CLUSTER_HOME / "cluster.id"
# Three JVMs on a small machine: a third of the single broker's heap each is plenty for local loads.
NODE_HEAP = ["-Xms128m", "-Xmx384m"]
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
REPLICATION = 3
BIND_RETRIES = 3
LOG_START: dict[int, int] = {}  # node id -> size of its log when this process launched it


def base_port() -> int:
    return port_from_env("BIANMIN_CLUSTER_PORT", kafka_port() + 2)


@dataclass(frozen=True)
class Node:
    node_id: int

    @property
    def port(self) -> int:
        return base_port() + 2 * (self.node_id - 1)

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def home(self) -> Path:
        return CLUSTER_HOME / f"node-{self.node_id}"

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def config(self) -> Path:
        return self.home / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.home / "log4j2.properties"

    @property
    def log(self) -> Path:
        return LOGS / f"cluster-node-{self.node_id}.log"

    @property
    def out(self) -> Path:
        return LOGS / f"cluster-node-{self.node_id}.out"

    @property
    def pid_file(self) -> Path:
        return RUN / f"cluster-node-{self.node_id}.pid"

    def jvm(self, *options: str) -> list[str]:
        return jvm(*options, log4j=self.log4j, tmp=self.home / "tmp")

    def pid(self) -> int | None:
        """Pid of this node's JVM, also when the pid file is stale or lost."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid and pid_alive(pid) and self._is_ours(pid):
            return pid
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self._is_ours(int(entry.name)) and pid_alive(int(entry.name)):
                RUN.mkdir(parents=True, exist_ok=True)
                self.pid_file.write_text(f"{entry.name}\n")
                return int(entry.name)
        self.pid_file.unlink(missing_ok=True)
        return None

    def _is_ours(self, pid: int) -> bool:
        cmd = cmdline(pid)
        return "kafka.Kafka" in cmd and str(self.config) in cmd

    def ready(self) -> bool:
        """Answers, and its metadata lists every node's broker (registered and unfenced)."""
        return kafka_ready("127.0.0.1", self.port, None, None, brokers=len(NODES))  # PLAINTEXT: no login


def node(node_id: int) -> Node:
    if node_id not in NODES:
        raise InfraError(f"cluster: no node {node_id}; the nodes are {', '.join(map(str, NODES))}")
    return Node(node_id)


def bootstrap() -> str:
    return ",".join(f"127.0.0.1:{Node(n).port}" for n in NODES)


def _node_config(n: Node) -> str:
    voters = ",".join(f"{m}@127.0.0.1:{Node(m).controller_port}" for m in NODES)
    # SASL would go here: a SASL_PLAINTEXT listener (and the controller's) in listeners,
    # listener.security.protocol.map and sasl.* settings, as the single broker has them.
    return f"""# Generated by deploy/local_cluster.py on every start; edit that script, not this file.
process.roles=broker,controller
node.id={n.node_id}
controller.quorum.voters={voters}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:{n.port},CONTROLLER://127.0.0.1:{n.controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{n.port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={n.data}

# Every topic on all three nodes; an acks=all write needs two of them, so one node may be down
# without losing an acknowledged write or stopping writes. Never elect a replica that is behind.
num.partitions=3
default.replication.factor={REPLICATION}
min.insync.replicas=2
unclean.leader.election.enable=false
auto.create.topics.enable=true
offsets.topic.replication.factor={REPLICATION}
transaction.state.log.replication.factor={REPLICATION}
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor={REPLICATION}
share.coordinator.state.topic.min.isr=2
# A killed node is fenced (and its partitions get new leaders) after the session timeout;
# 9 s by default, shorter on loopback.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
# Three nodes share a small machine.
num.network.threads=2
num.io.threads=4

log.segment.bytes=16777216
log.index.size.max.bytes=1048576
log.retention.hours=168
log.retention.check.interval.ms=300000
"""


def _write_configs() -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    for n in map(Node, NODES):
        (n.home / "tmp").mkdir(parents=True, exist_ok=True)
        n.config.write_text(_node_config(n))
        n.log4j.write_text(log4j_config(n.log))


def _ensure_formatted() -> None:
    """Formats the nodes with no storage yet with the cluster's id (a new id for a new cluster)."""
    recorded = CLUSTER_ID_FILE.read_text().strip() if CLUSTER_ID_FILE.exists() else None
    blank = []
    for n in map(Node, NODES):
        meta = read_props(n.data / "meta.properties")
        if not meta:
            blank.append(n)
        elif recorded and meta.get("cluster.id") != recorded:
            raise InfraError(f"cluster: {n.data} belongs to cluster {meta.get('cluster.id')}, not {recorded}; "
                             f"run 'down', remove {CLUSTER_HOME} (topics are lost), then 'up' again.")
        else:
            recorded = recorded or meta.get("cluster.id")
    if not blank:
        return
    cluster_id = recorded or _new_cluster_id()
    say(f"cluster: formatting node(s) {', '.join(str(n.node_id) for n in blank)} (cluster id {cluster_id})")
    procs = [(n, subprocess.Popen(
        [*n.jvm(), "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(n.config)],
        cwd=n.home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True))
        for n in blank]
    for n, proc in procs:
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0 or not (n.data / "meta.properties").exists():
            raise InfraError(f"cluster: formatting node {n.node_id} failed:\n{out}")
    CLUSTER_ID_FILE.write_text(cluster_id + "\n")


def _launch(n: Node) -> int:
    for port, what in ((n.port, "broker"), (n.controller_port, "controller")):
        require_port_free(port, f"cluster node {n.node_id} {what}", "BIANMIN_CLUSTER_PORT")
    RUN.mkdir(parents=True, exist_ok=True)
    LOG_START[n.node_id] = n.log.stat().st_size if n.log.exists() else 0
    pid = spawn_detached([*n.jvm(*NODE_HEAP, *KAFKA_GC), "kafka.Kafka", str(n.config)], n.home, n.out)
    n.pid_file.write_text(f"{pid}\n")
    say(f"cluster: node {n.node_id} starting, pid {pid} (log: {n.log})")
    return pid


def _ports_freed(n: Node, deadline: float) -> bool:
    while port_busy(n.port) or port_busy(n.controller_port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _wait_ready(nodes: list[Node], started: float) -> None:
    # A node alone never becomes ready: its broker needs a quorum (two voters) to register.
    pending = list(nodes)
    relaunches = dict.fromkeys(nodes, BIND_RETRIES)
    while pending:
        for n in list(pending):
            if n.pid() is None:
                text = f"{tail(n.out)}\n{tail(n.log, 60, start=LOG_START.get(n.node_id, 0))}"
                # The ports lie in the kernel's ephemeral range: a client's outgoing connection (another
                # node's, a service's) may take one between the check and the JVM's bind. Try again.
                if "Address already in use" in text and relaunches[n] and _ports_freed(n, started + START_TIMEOUT):
                    relaunches[n] -= 1
                    say(f"cluster: node {n.node_id} found a port taken at start-up; starting it again")
                    _launch(n)
                    continue
                raise InfraError(f"cluster: node {n.node_id} exited during start-up:\n{text}")
            if n.ready():
                pending.remove(n)
        if pending and time.monotonic() - started > START_TIMEOUT:
            raise InfraError(f"cluster: node(s) {[n.node_id for n in pending]} not ready within "
                             f"{START_TIMEOUT:.0f} s (all three brokers live); see {LOGS}/cluster-node-*.log")
        if pending:
            time.sleep(0.2)


def start_cluster() -> list[int]:
    """Starts the nodes not running and waits until every node lists three live brokers.
    Returns the ids of the nodes this call started; stops them again when the cluster does not come up."""
    with lock("cluster"):
        started = time.monotonic()
        ensure_kafka_jars()
        missing = [n for n in map(Node, NODES) if n.pid() is None]
        if missing:
            _write_configs()
            _ensure_formatted()
        try:
            for n in missing:
                _launch(n)
            _wait_ready(list(map(Node, NODES)), started)
        except BaseException:
            _stop(missing)
            raise
        if missing:
            say(f"cluster: ready on {bootstrap()} in {time.monotonic() - started:.1f} s")
        return [n.node_id for n in missing]


def start_node(node_id: int) -> float:
    """Starts one stopped or killed node on its data and waits until the cluster lists it again.
    Returns the seconds it took."""
    n = node(node_id)
    with lock("cluster"):
        started = time.monotonic()
        if n.pid() is None:
            _write_configs()
            _launch(n)
        _wait_ready([n], started)
        return time.monotonic() - started


def kill_node(node_id: int) -> int:
    """SIGKILL of one node's JVM: no controlled shutdown, log recovery on its next start."""
    n = node(node_id)
    pid = n.pid()
    if pid is None:
        raise InfraError(f"cluster: node {node_id} is not running")
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    n.pid_file.unlink(missing_ok=True)
    return pid


def stop_cluster() -> list[int]:
    """SIGTERM to every node at once (a controlled shutdown needs the quorum, which stopping them
    one by one would lose before the last), SIGKILL after STOP_TIMEOUT. Returns the stopped ids."""
    with lock("cluster"):
        return _stop(list(map(Node, NODES)))


def _stop(nodes: list[Node]) -> list[int]:
    running = {n: pid for n in nodes if (pid := n.pid()) is not None}
    for pid in running.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(pid_alive(p) for p in running.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for n, pid in running.items():
        if pid_alive(pid):
            say(f"cluster: node {n.node_id} (pid {pid}) ignored SIGTERM for {STOP_TIMEOUT:.0f} s, killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        n.pid_file.unlink(missing_ok=True)
    return [n.node_id for n in running]


def status() -> tuple[list[str], bool]:
    lines, healthy = [], True
    for n in map(Node, NODES):
        pid = n.pid()
        ok = pid is not None and n.ready()
        healthy &= ok
        state = f"running, pid {pid}" if ok else f"not ready, pid {pid}" if pid else "stopped"
        lines.append(f"cluster node {n.node_id}: {state}, 127.0.0.1:{n.port} (controller {n.controller_port})")
    return lines, healthy


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    usage = f"usage: {Path(__file__).name} {{up|down|status|env|kill N|start N}}"
    if not argv or (argv[0] in ("kill", "start")) != (len(argv) == 2) or len(argv) > 2:
        print(usage, file=sys.stderr)
        return 2
    try:
        if argv[0] == "up":
            start_cluster()
            print(f"kafka cluster: {bootstrap()}")
        elif argv[0] == "down":
            stopped = stop_cluster()
            print(f"kafka cluster: stopped node(s) {stopped}" if stopped else "kafka cluster: was not running")
        elif argv[0] == "status":
            lines, healthy = status()
            print("\n".join(lines))
            return 0 if healthy else 3
        elif argv[0] == "env":
            print(f"export KAFKA_BOOTSTRAP_SERVERS={shlex.quote(bootstrap())}")
            print(f"export BIANMIN_KAFKA_REPLICATION={REPLICATION}")
            print("export KAFKA_SECURITY_PROTOCOL=PLAINTEXT")  # the cluster runs without SASL
        elif argv[0] == "kill":
            print(f"kafka cluster: node {argv[1]} killed (pid {kill_node(int(argv[1]))})")
        elif argv[0] == "start":
            seconds = start_node(int(argv[1]))
            print(f"kafka cluster: node {argv[1]} back in {seconds:.1f} s")
        else:
            print(usage, file=sys.stderr)
            return 2
    except (InfraError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
