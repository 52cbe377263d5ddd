"""The fault suite's three-node Kafka cluster (deploy/local_cluster.py) and what the cluster cases
read from it through the Kafka admin API: partition leaders and in-sync replicas, group members.

Like the single broker (infra.py), each start, kill and restart runs deploy in a child process, here
with BIANMIN_LOCAL_DIR at `.local/faults-cluster` and the nodes on BIANMIN_FAULT_CLUSTER_PORT
(default: the main suite's Kafka port + 2, so node ports +2…+7 stay beside it)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from tests.faults.infra import ROOT, deploy_call

CLUSTER_DIR = ROOT / ".local" / "faults-cluster"
CLUSTER_PORT = int(os.environ.get("BIANMIN_FAULT_CLUSTER_PORT") or int(os.environ.get("BIANMIN_KAFKA_PORT", 9092)) + 2)
NODES = (1, 2, 3)


@dataclass(frozen=True)
class ClusterInfra:
    kafka_bootstrap: str = ",".join(f"127.0.0.1:{CLUSTER_PORT + 2 * (n - 1)}" for n in NODES)

    def start(self) -> None:
        shutil.rmtree(CLUSTER_DIR, ignore_errors=True)  # a fresh cluster: no topics or groups of an earlier run
        self._call("local_cluster.start_cluster()")

    def stop(self) -> None:
        self._call("local_cluster.stop_cluster()")

    def kill(self, node_id: int) -> int:
        """SIGKILL of one node's JVM (broker and controller at once)."""
        return int(self._call(f"print(local_cluster.kill_node({node_id}))"))

    def restart(self, node_id: int) -> float:
        """Starts a killed node on its data; returns when every node lists three live brokers again."""
        return float(self._call(f"print(local_cluster.start_node({node_id}))"))

    def _call(self, call: str) -> str:
        return deploy_call(call, module="local_cluster", local_dir=CLUSTER_DIR,
                           extra_env={"BIANMIN_CLUSTER_PORT": str(CLUSTER_PORT)})


async def partition_replicas(kafka: str, topics: list[str]) -> dict[tuple[str, int], tuple[int, list[int]]]:
    """(topic, partition) -> (leader node id, in-sync replica ids)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {(d["topic"], p["partition"]): (p["leader"], sorted(p["isr"])) for d in described for p in d["partitions"]}


def busiest_leader(replicas: dict[tuple[str, int], tuple[int, list[int]]]) -> int:
    """The node leading the most of these partitions: killing it forces the most elections."""
    leaders = [leader for leader, _ in replicas.values()]
    return max(NODES, key=leaders.count)


async def led_without(kafka: str, topics: list[str], node_id: int) -> bool:
    """Every partition has a live leader other than `node_id` (the killed node is fenced)."""
    try:
        replicas = await partition_replicas(kafka, topics)
    except Exception:  # noqa: BLE001 - the admin client may ask the dead node first: not yet
        return False
    return bool(replicas) and all(leader not in (node_id, -1) for leader, _ in replicas.values())


async def all_in_sync(kafka: str, topics: list[str]) -> bool:
    replicas = await partition_replicas(kafka, topics)
    return bool(replicas) and all(isr == list(NODES) for _, isr in replicas.values())


async def group_assignment(kafka: str, group: str) -> list[list[tuple[str, int]]]:
    """The partitions each member of a consumer group holds (one list per member)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        [described] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    members = []
    # DescribeGroups response: (error_code, group_id, state, protocol_type, protocol, members, ...);
    # a member's assignment (its last field) is the consumer protocol's bytes, empty while rebalancing.
    for g in described.groups:
        if g[1] != group:
            continue
        for member in g[5]:
            raw = member[-1]
            assignment = ConsumerProtocolMemberAssignment.decode(raw) if raw else None
            members.append(sorted((tp.topic, tp.partition) for tp in assignment.partitions()) if assignment else [])
    return members
