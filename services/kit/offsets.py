"""Committing consumed offsets in batches, and only offsets whose messages are fully handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition

log = logging.getLogger(__name__)


class OffsetCommitter:
    """Commits, per consumer, the offset after the last handled message of each partition.

    An offset commit costs a broker round trip (several ms), more than many handlers do, so it
    happens every `every` messages or `interval` seconds instead of after each one. Offsets are
    explicit, never "the consumer's position", so a message fetched but not yet handled is never
    committed. What a crash leaves uncommitted is delivered again and dropped by the inbox.
    """

    def __init__(self, *, every: int = 100, interval: float = 0.5) -> None:
        self._every, self._interval = every, interval
        self._pending: dict[Any, dict[TopicPartition, int]] = {}
        self._count = 0
        self._last = time.monotonic()
        self._flusher: asyncio.Task[None] | None = None
        self._revoked: set[TopicPartition] = set()
        self.commits = 0
        self.dropped = 0  # offsets of partitions revoked while their message was being handled

    async def handled(self, consumer: Any, topic: str, partition: int, offset: int, *, now: bool = False) -> None:
        await self.handled_batch(consumer, {TopicPartition(topic, partition): offset}, 1, now=now)

    async def handled_batch(self, consumer: Any, last: Mapping[TopicPartition, int], count: int, *,
                            now: bool = False) -> None:
        """`count` messages handled as a whole; `last` holds the last offset of each partition among them."""
        pending = self._pending.setdefault(consumer, {})
        for tp, offset in last.items():
            if tp in self._revoked:  # its new owner starts from the last commit; the inbox drops the repeat
                self.dropped += 1
                continue
            pending[tp] = offset + 1
        self._count += count
        if now or self._count >= self._every or time.monotonic() - self._last >= self._interval:
            await self.flush()
        elif self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_idle_tail(), name="offset-committer")

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        self._count, self._last = 0, time.monotonic()
        for consumer, offsets in pending.items():
            if offsets:
                await self._commit(consumer, offsets)

    async def _commit(self, consumer: Any, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
            self.commits += 1
        except Exception as exc:  # noqa: BLE001 - partition moved in a rebalance: its new owner replays, the inbox dedupes
            log.warning("offset commit failed", extra={"error": type(exc).__name__, "partitions": len(offsets)})

    async def revoke(self, partitions: set[TopicPartition]) -> None:
        """Before partitions move to another member: commit what was handled on them, and stop
        recording them, since a later commit could move the new owner's offset back."""
        self._revoked |= partitions
        for consumer, offsets in list(self._pending.items()):
            moving = {tp: offsets.pop(tp) for tp in partitions if tp in offsets}
            if moving:
                await self._commit(consumer, moving)

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self._revoked -= partitions

    async def close(self) -> None:
        if self._flusher:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.flush()

    async def _flush_idle_tail(self) -> None:
        """Without it the last messages before a quiet spell would stay uncommitted."""
        while True:
            await asyncio.sleep(self._interval)
            if self._pending:
                await self.flush()


class CommitOnRevoke(ConsumerRebalanceListener):
    """Given to each subscriber: flushes the pending offsets of partitions leaving this member."""

    def __init__(self, committer: OffsetCommitter) -> None:
        self._committer = committer

    async def on_partitions_revoked(self, revoked) -> None:
        await self._committer.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        self._committer.assigned(set(assigned))
