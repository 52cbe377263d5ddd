"""Batching of offset commits: explicit offsets of handled messages only."""

import asyncio

import pytest
from aiokafka import TopicPartition

from services.kit.offsets import OffsetCommitter
from services.kit.testing import eventually

pytestmark = pytest.mark.unit
TP = TopicPartition("bianmin.intake.cases.v1", 1)


class RecordingConsumer:
    def __init__(self) -> None:
        self.commits: list[dict] = []

    async def commit(self, offsets):
        self.commits.append(dict(offsets))


async def test_commits_every_n_with_the_offset_after_the_last_handled():
    consumer, committer = RecordingConsumer(), OffsetCommitter(every=3, interval=60)
    for offset in (10, 11):
        await committer.handled(consumer, TP.topic, TP.partition, offset)
    assert consumer.commits == []
    await committer.handled(consumer, TP.topic, TP.partition, 12)
    assert consumer.commits == [{TP: 13}]
    await committer.close()


async def test_dead_letter_is_committed_at_once():
    consumer, committer = RecordingConsumer(), OffsetCommitter(every=100, interval=60)
    await committer.handled(consumer, TP.topic, TP.partition, 7, now=True)
    assert consumer.commits == [{TP: 8}]
    await committer.close()


async def test_idle_tail_is_committed_by_the_flusher_and_close_flushes():
    consumer, committer = RecordingConsumer(), OffsetCommitter(every=100, interval=0.05)
    await committer.handled(consumer, TP.topic, TP.partition, 3)
    await eventually(lambda: asyncio.sleep(0, result=consumer.commits), timeout=5, what="the idle flush")
    assert consumer.commits == [{TP: 4}]
    await committer.handled(consumer, TP.topic, TP.partition, 4)
    await committer.close()
    assert consumer.commits[-1] == {TP: 5}


async def test_a_failed_commit_is_dropped_not_raised():
    class Revoked(RecordingConsumer):
        async def commit(self, offsets):
            raise RuntimeError("partition revoked")

    committer = OffsetCommitter(every=1, interval=60)
    await committer.handled(Revoked(), TP.topic, TP.partition, 1)  # must not raise
    assert committer.commits == 0
    await committer.close()


async def test_revoked_partitions_are_committed_at_once_and_later_offsets_dropped():
    consumer, committer = RecordingConsumer(), OffsetCommitter(every=100, interval=60)
    other = TopicPartition(TP.topic, 2)
    await committer.handled(consumer, TP.topic, TP.partition, 5)
    await committer.handled(consumer, other.topic, other.partition, 9)
    await committer.revoke({TP})
    assert consumer.commits == [{TP: 6}]  # only the partition that moves
    await committer.handled(consumer, TP.topic, TP.partition, 6)  # was in flight during the rebalance
    assert committer.dropped == 1
    await committer.flush()
    assert consumer.commits[-1] == {other: 10}
    committer.assigned({TP})  # back again: recorded as usual
    await committer.handled(consumer, TP.topic, TP.partition, 20, now=True)
    assert consumer.commits[-1] == {TP: 21}
    await committer.close()
