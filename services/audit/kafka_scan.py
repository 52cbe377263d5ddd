"""Reading whole topics from the beginning, for the checks and tools that hold audit against Kafka
(verify, reconcile, rebuild): no consumer group, nothing committed, every partition assigned, up to
the end offsets taken when reading starts, so a busy topic still has an end."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

from contracts.topics import EVENT_TOPICS
from services.kit.kafka_security import kafka_client_options
from services.kit.topics import topic_partitions

# (records read so far, records to read in all), after each batch
Progress = Callable[[int, int], None]


class ScanFailed(Exception):
    """The topics could not be read to their end (Chinese message)."""


@dataclass
class ScanStats:
    """What the scan covered. A partition whose first offset is above 0 lost its oldest events
    to retention or deletion: Kafka no longer holds the whole history."""

    total: int = 0
    read: int = 0
    first_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    end_offsets: dict[TopicPartition, int] = field(default_factory=dict)

    @property
    def truncated(self) -> list[TopicPartition]:
        return sorted(tp for tp, first in self.first_offsets.items() if first > 0)


async def scan(bootstrap: str, topics: Sequence[str] = EVENT_TOPICS, *, progress: Progress | None = None,
               stats: ScanStats | None = None, stall_timeout: float = 60.0, batch: int = 5000,
               start: Mapping[TopicPartition, int] | None = None) -> AsyncIterator[list[ConsumerRecord]]:
    """Every record of `topics`, partition by partition in offset order, in batches; from the
    beginning, or from the offsets in `start` (a test reads only what it sent).

    Raises ScanFailed when a topic does not exist or nothing arrives for `stall_timeout` seconds
    while records are still due.
    """
    stats = stats if stats is not None else ScanStats()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", request_timeout_ms=int(stall_timeout * 1000),
                                max_partition_fetch_bytes=4 * 1024 * 1024, **kafka_client_options())
    try:
        await consumer.start()
        partitions = await _partitions(bootstrap, topics)
        consumer.assign(partitions)
        stats.first_offsets = await consumer.beginning_offsets(partitions)
        stats.end_offsets = await consumer.end_offsets(partitions)
        begin = {tp: max(stats.first_offsets[tp], (start or {}).get(tp, 0)) for tp in partitions}
        stats.total = sum(stats.end_offsets[tp] - begin[tp] for tp in partitions)
        for tp in partitions:
            consumer.seek(tp, begin[tp])
        if progress:
            progress(0, stats.total)
        due = {tp for tp in partitions if stats.end_offsets[tp] > begin[tp]}
        last_record = time.monotonic()
        while due:
            fetched = await consumer.getmany(*due, timeout_ms=1000, max_records=batch)
            records = [r for tp, rs in fetched.items() for r in rs if r.offset < stats.end_offsets[tp]]
            for tp in list(due):
                if await consumer.position(tp) >= stats.end_offsets[tp]:
                    due.discard(tp)
            if records:
                last_record = time.monotonic()
                stats.read += len(records)
                yield records
                if progress:
                    progress(stats.read, stats.total)
            elif time.monotonic() - last_record > stall_timeout:
                raise ScanFailed(f"{stall_timeout:.0f} 秒内未读到新消息，主题未能读完（已读 {stats.read}/{stats.total} 条）")
    except KafkaError as exc:
        raise ScanFailed(f"无法读取 Kafka（{bootstrap}）：{exc}") from exc
    finally:
        await consumer.stop()


async def end_offsets(bootstrap: str, topics: Sequence[str] = EVENT_TOPICS) -> dict[TopicPartition, int]:
    """Where each partition of `topics` ends now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                **kafka_client_options())
    try:
        await consumer.start()
        return await consumer.end_offsets(await _partitions(bootstrap, topics))
    except KafkaError as exc:
        raise ScanFailed(f"无法读取 Kafka（{bootstrap}）：{exc}") from exc
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    partitions = await topic_partitions(bootstrap, list(topics))
    missing = sorted(set(topics) - {tp.topic for tp in partitions})
    if missing:
        raise ScanFailed(f"Kafka 上没有主题 {'、'.join(missing)}")
    return sorted(partitions)


@contextmanager
def progress_bar(description: str, *, disable: bool = False) -> Iterator[Progress]:
    """A progress bar on stderr (stdout keeps the report), fed by scan's progress callback."""
    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
             TextColumn("{task.percentage:>5.1f}%"), TimeRemainingColumn(),
             console=Console(stderr=True), disable=disable, transient=False) as bar:
        task = bar.add_task(description, total=None)

        def update(read: int, total: int) -> None:
            bar.update(task, completed=read, total=total)

        yield update
