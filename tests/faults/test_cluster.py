"""Case 7: a three-node Kafka cluster (every topic on all three nodes, min.insync.replicas 2).

- One node is killed (SIGKILL) while an idempotent acks=all producer writes keyed records: every
  record it got an acknowledgement for is read back at its offset, and the node rejoins (in sync
  again on every partition).
- The four services on the cluster keep taking cases while a node is killed; every case reaches
  audit exactly once.
- Two routing instances in one consumer group share the partitions (seen in the group's member
  assignments); each case is assigned once; when one instance stops, the other takes every partition
  and the work goes on."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import CASE_TOPICS, INTAKE_CASES
from deploy.kafka_setup import admin_client, create_topics
from services.kit.kafka_security import KafkaSecurity
from services.kit.testing import eventually
from services.kit.topics import topic_configs
from tests.faults.cluster import (
    NODES,
    ClusterInfra,
    all_in_sync,
    busiest_leader,
    group_assignment,
    led_without,
    partition_replicas,
)
from tests.faults.conftest import create_database, fault_system, stop_other_systems
from tests.faults.load import Load
from tests.faults.verdict import baseline, judge, record_line

pytestmark = pytest.mark.fault

PROBE_TOPIC = "faults.cluster-probe"
PROBE_PARTITIONS = 6
BEFORE_KILL = 2000  # records acknowledged before the kill
AFTER_ELECTION = 2000  # and after the killed node's partitions have new leaders
IN_FLIGHT = 200
SEND_CAP = 40_000  # bounds a run in which the election never comes
PARTITIONS = 6


def plaintext(_service: str) -> dict[str, str]:
    """The cluster listens without SASL (docs/local-cluster.md), so the services connect in PLAINTEXT."""
    return {"KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
ROUTING_GROUP = "bianmin-routing-cluster"


@pytest.fixture(scope="module")
async def cluster(fault_infra) -> ClusterInfra:
    # fault_infra: its PostgreSQL holds the services' databases (and it resets the fault report).
    infra = ClusterInfra()
    await asyncio.to_thread(infra.start)
    with pytest.MonkeyPatch.context() as env:  # this module's own clients too, then back to the SASL broker's
        env.setenv("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
        # Services only check their topics exist; setup makes them, replicated on all three nodes.
        await asyncio.to_thread(create_topics, admin_client(infra.kafka_bootstrap, KafkaSecurity()),
                                partitions=PARTITIONS, replication=len(NODES))
        yield infra
    await asyncio.to_thread(infra.stop)


@pytest.fixture(scope="module")
async def cluster_system(cluster, fault_infra):
    await stop_other_systems()  # their broker is another, but two systems at once are too much for two cores
    sys_ = fault_system(cluster, await create_database(fault_infra, "cluster"), "cluster", group="cluster",
                        port_shift=30, kafka_user_env=plaintext)
    await asyncio.to_thread(sys_.start)
    yield sys_
    await asyncio.to_thread(sys_.stop)


async def _create_probe_topic(kafka: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(PROBE_TOPIC, num_partitions=PROBE_PARTITIONS, replication_factor=len(NODES),
                                            topic_configs=topic_configs(len(NODES)))])
    finally:
        await admin.close()


async def _send_window(producer: AIOKafkaProducer, first: int, acked: dict[int, tuple[int, int]]) -> int:
    """Sends records first..first+IN_FLIGHT-1 (value = sequence number); records the acknowledged
    ones' (partition, offset); returns how many failed."""
    futures = {}
    for seq in range(first, first + IN_FLIGHT):
        try:
            futures[seq] = await producer.send(PROBE_TOPIC, value=str(seq).encode(), key=f"case-{seq % 500}".encode())
        except Exception:  # noqa: BLE001 - not queued: never acknowledged, so not owed
            pass
    results = await asyncio.gather(*futures.values(), return_exceptions=True)
    for seq, meta in zip(futures, results, strict=True):
        if not isinstance(meta, BaseException):
            acked[seq] = (meta.partition, meta.offset)
    return IN_FLIGHT - sum(not isinstance(r, BaseException) for r in results)


async def _read_back(kafka: str) -> dict[tuple[int, int], int]:
    """Every record of the probe topic: (partition, offset) -> sequence number."""
    partitions = [TopicPartition(PROBE_TOPIC, p) for p in range(PROBE_PARTITIONS)]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    found: dict[tuple[int, int], int] = {}
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)

        async def at_end() -> bool:
            for tp, records in (await consumer.getmany(timeout_ms=500, max_records=5000)).items():
                found.update(((tp.partition, r.offset), int(r.value)) for r in records)
            positions = [await consumer.position(tp) for tp in partitions]
            return all(at >= ends[tp] for at, tp in zip(positions, partitions, strict=True))

        await eventually(at_end, timeout=90, interval=0, what="the probe topic read to its end")
    finally:
        await consumer.stop()
    return found


async def test_no_acknowledged_record_is_lost_when_a_node_is_killed_mid_load(cluster):
    kafka = cluster.kafka_bootstrap
    began = time.monotonic()
    await _create_probe_topic(kafka)
    victim = busiest_leader(await partition_replicas(kafka, [PROBE_TOPIC]))

    async def kill_and_wait_for_new_leaders() -> float:
        await asyncio.to_thread(cluster.kill, victim)
        killed = time.monotonic()
        await eventually(lambda: led_without(kafka, [PROBE_TOPIC], victim), timeout=90,
                         what=f"new leaders for node {victim}'s partitions")
        return time.monotonic() - killed

    acked: dict[int, tuple[int, int]] = {}
    failed = sent = 0
    election: asyncio.Task[float] | None = None
    acked_at_kill = 0
    acked_at_election: int | None = None
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        while sent < SEND_CAP:
            failed += await _send_window(producer, sent, acked)
            sent += IN_FLIGHT
            if election is None and len(acked) >= BEFORE_KILL:
                acked_at_kill = len(acked)
                election = asyncio.create_task(kill_and_wait_for_new_leaders())  # the load goes on meanwhile
            if election is not None and election.done() and acked_at_election is None:
                acked_at_election = len(acked)
            if acked_at_election is not None and len(acked) - acked_at_election >= AFTER_ELECTION:
                break
    finally:
        await producer.stop()
    assert election is not None, f"only {len(acked)} of {sent} records acknowledged; the node was never killed"
    reelect_s = await election
    rejoin_s = await asyncio.to_thread(cluster.restart, victim)
    in_sync_from = time.monotonic()
    await eventually(lambda: all_in_sync(kafka, [PROBE_TOPIC]), timeout=90, interval=0.2,
                     what=f"node {victim} back in every partition's in-sync replicas")
    in_sync_s = time.monotonic() - in_sync_from

    found = await _read_back(kafka)
    lost = sorted(seq for seq, where in acked.items() if found.get(where) != seq)
    copies = Counter(found.values())
    record_line(f"fault=cluster-node-kill sent={sent} acked={len(acked)} acked_before_kill={acked_at_kill} "
                f"acked_before_new_leaders={acked_at_election} failed={failed} read={len(found)} "
                f"lost={len(lost)} duplicated={sum(n - 1 for n in copies.values())} killed_node={victim} "
                f"reelect_s={reelect_s:.1f} rejoin_s={rejoin_s:.1f} isr3_after_rejoin_s={in_sync_s:.1f} "
                f"seconds={time.monotonic() - began:.0f}")
    assert not lost, f"{len(lost)} acknowledged records not read back at their offsets, e.g. {lost[:10]}"
    assert acked_at_election is not None and len(acked) - acked_at_election >= AFTER_ELECTION, \
        f"the load stopped at {len(acked)} acknowledged records, {acked_at_election} of them before the new leaders"


async def test_the_system_takes_cases_through_a_node_kill(cluster, cluster_system):
    kafka, audit_url = cluster.kafka_bootstrap, cluster_system["audit"].url
    since = await baseline(audit_url, kafka)
    victim = busiest_leader(await partition_replicas(kafka, list(CASE_TOPICS)))
    load = Load(cluster_system["intake"].url, target=60).start()
    await load.reached(15)
    await asyncio.to_thread(cluster.kill, victim)
    killed = time.monotonic()
    await eventually(lambda: led_without(kafka, list(CASE_TOPICS), victim), timeout=90,
                     what=f"new leaders for node {victim}'s partitions")
    reelect_s = time.monotonic() - killed
    await load.reached(40)  # with the node down
    rejoin_s = await asyncio.to_thread(cluster.restart, victim)
    await load.finish()
    await eventually(lambda: all_in_sync(kafka, list(CASE_TOPICS)), timeout=90, interval=0.2,
                     what=f"node {victim} back in every partition's in-sync replicas")

    refused = [a for a in load.answers if a.status != 201]
    verdict = await judge("cluster-node-kill-system", load.case_ids, audit_url=audit_url, kafka=kafka, since=since,
                          extra={"killed_node": victim, "reelect_s": f"{reelect_s:.1f}", "rejoin_s": f"{rejoin_s:.1f}",
                                 "refused": len(refused)})
    assert not refused, f"intake refused {len(refused)} submissions around the node kill: {refused[:3]}"
    verdict.assert_clean()


async def _split_between(kafka: str, partitions: list[tuple[str, int]], instances: int) -> list | None:
    """The group's member assignments once `instances` members hold every partition, each some."""
    members = await group_assignment(kafka, ROUTING_GROUP)
    held = sorted(p for m in members for p in m)
    return members if len(members) == instances and all(members) and held == partitions else None


async def test_two_routing_instances_share_the_partitions(cluster, cluster_system):
    kafka, audit_url, intake_url = cluster.kafka_bootstrap, cluster_system["audit"].url, cluster_system["intake"].url
    partitions = sorted(await partition_replicas(kafka, [INTAKE_CASES]))
    first = cluster_system["routing"]
    second = fault_system(cluster, first.env["DATABASE_URL"], "cluster-second", group="cluster", port_shift=40,
                          kafka_user_env=plaintext)["routing"]
    await asyncio.to_thread(second.start)
    try:
        shared = await eventually(lambda: _split_between(kafka, partitions, 2), timeout=90,
                                  what=f"two routing instances sharing {len(partitions)} partitions")
        since = await baseline(audit_url, kafka)
        load = Load(intake_url, target=24).start()
        await load.finish()
        both = await judge("cluster-two-routing", load.case_ids, audit_url=audit_url, kafka=kafka, since=since,
                           extra={"partitions_held": "+".join(str(len(m)) for m in shared)})
        both.assert_clean()

        await asyncio.to_thread(first.stop)
        stopped = time.monotonic()
        await eventually(lambda: _split_between(kafka, partitions, 1), timeout=90,
                         what="the remaining routing instance holding every partition")
        takeover_s = time.monotonic() - stopped
        since = await baseline(audit_url, kafka)
        load = Load(intake_url, target=24).start()
        await load.finish()
        alone = await judge("cluster-one-routing-left", load.case_ids, audit_url=audit_url, kafka=kafka, since=since,
                            extra={"partitions_held": len(partitions), "takeover_s": f"{takeover_s:.1f}"})
        alone.assert_clean()
    finally:
        await asyncio.to_thread(second.stop)
        if not first.alive():
            await asyncio.to_thread(first.start)
            await asyncio.to_thread(first.wait_ready)
