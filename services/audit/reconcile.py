"""The audit log held against Kafka's event topics, which keep every event (retention.ms=-1).

    python -m services.audit.reconcile --bootstrap-servers kafka:9092 --database-url postgresql://…

An event on a topic but not in the log was lost or deleted from it; one whose content differs from
the log's was rewritten (in the log or on the topic); a logged event that no topic holds was put in
the log from elsewhere. A copy on the topic that differs while another copy matches is a forged
replay, which audit refuses and keeps in replays_refused: listed, not a fault of the log.
`reconcile()` takes the log as event_id → sha256 of its canonical envelope, so it serves the
server (from the database, below) and an inspector's own copy (from an export) alike.
Exit code 0: the log and Kafka agree; 1: they differ; 2: usage or connection error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import ValidationError

from contracts.events import parse_event
from contracts.topics import EVENT_TOPICS
from services.audit import kafka_scan
from services.audit.domain import audit_envelope
from services.audit.replays import sha256_hex

OK, DIFFERENT, UNUSABLE = 0, 1, 2
NAMED_LIMIT = 1000  # events named per kind in a report; the counts are complete


@dataclass(frozen=True)
class KafkaEvent:
    """Where an event sits on Kafka."""

    event_id: UUID
    event_type: str
    case_id: UUID
    topic: str
    partition: int
    offset: int
    sha256: str


@dataclass
class ReconcileReport:
    scanned: int = 0  # records read from the topics
    matched: int = 0  # logged events found on Kafka with the logged content
    missing_count: int = 0
    missing: list[KafkaEvent] = field(default_factory=list)  # on Kafka, not in the log
    differing_count: int = 0
    differing: list[KafkaEvent] = field(default_factory=list)  # no copy on Kafka has the logged content
    forged_copies: list[KafkaEvent] = field(default_factory=list)  # other content beside a matching copy
    not_on_kafka_count: int = 0
    not_on_kafka: list[UUID] = field(default_factory=list)  # in the log, on no topic
    unreadable: list[str] = field(default_factory=list)  # records that are no event
    truncated: list[str] = field(default_factory=list)  # partitions that no longer start at offset 0

    @property
    def agrees(self) -> bool:
        return not (self.missing_count or self.differing_count or self.not_on_kafka_count or self.unreadable
                    or self.truncated)


def kafka_event(record: ConsumerRecord) -> KafkaEvent | None:
    try:
        event = parse_event(record.value or b"")
    except (ValueError, ValidationError):
        return None
    return KafkaEvent(event_id=event.event_id, event_type=event.event_type, case_id=event.case_id, topic=record.topic,
                      partition=record.partition, offset=record.offset, sha256=sha256_hex(audit_envelope(event)))


async def reconcile(bootstrap: str, logged: Mapping[UUID, str], *, progress: kafka_scan.Progress | None = None,
                    topics: Sequence[str] = EVENT_TOPICS, stall_timeout: float = 60.0,
                    named: int = NAMED_LIMIT, start: Mapping[TopicPartition, int] | None = None) -> ReconcileReport:
    """Read every event topic from the beginning and compare each event with `logged`; at most
    `named` events of each kind are named, all are counted. `start` (offsets per partition) is for
    tests on a shared Kafka."""
    report = ReconcileReport()
    stats = kafka_scan.ScanStats()
    matched: set[UUID] = set()
    mismatched: dict[UUID, list[KafkaEvent]] = {}
    async for records in kafka_scan.scan(bootstrap, topics, progress=progress, stats=stats,
                                         stall_timeout=stall_timeout, start=start):
        for record in records:
            report.scanned += 1
            event = kafka_event(record)
            if event is None:
                report.unreadable.append(f"{record.topic} 分区 {record.partition} 偏移 {record.offset} 的消息不是可读的事件")
                continue
            expected = logged.get(event.event_id)
            if expected is None:
                report.missing_count += 1
                if len(report.missing) < named:
                    report.missing.append(event)
            elif expected == event.sha256:
                matched.add(event.event_id)
            else:
                mismatched.setdefault(event.event_id, []).append(event)
    for event_id, copies in mismatched.items():
        if event_id in matched:
            report.forged_copies += copies
        else:
            report.differing_count += 1
            if len(report.differing) < named:
                report.differing.append(copies[0])
    report.matched = len(matched)
    seen = matched | mismatched.keys()
    report.not_on_kafka_count = len(logged) - len(seen & logged.keys())
    report.not_on_kafka = [i for i in logged if i not in seen][:named] if report.not_on_kafka_count else []
    report.truncated = [f"{tp.topic} 分区 {tp.partition} 从偏移 {stats.first_offsets[tp]} 开始：更早的事件已不在 Kafka 上"
                        for tp in stats.truncated]
    return report


def report_lines(report: ReconcileReport) -> list[str]:
    """The report in Chinese, one finding a line, for the command line."""
    lines = [f"读取 Kafka 事件 {report.scanned} 条，与审计日志一致 {report.matched} 条"]
    lines += [f"问题：{u}" for u in report.unreadable]
    lines += [f"问题：{t}" for t in report.truncated]
    lines += [f"Kafka 上有而审计日志中没有：事件 {e.event_id}（{e.event_type}，办件 {e.case_id}，"
              f"{e.topic} 分区 {e.partition} 偏移 {e.offset}）" for e in report.missing]
    if report.missing_count > len(report.missing):
        lines.append(f"……共 {report.missing_count} 条审计日志缺失的事件")
    lines += [f"内容与审计日志不符：事件 {e.event_id}（{e.event_type}，办件 {e.case_id}，"
              f"{e.topic} 分区 {e.partition} 偏移 {e.offset}）" for e in report.differing]
    if report.differing_count > len(report.differing):
        lines.append(f"……共 {report.differing_count} 条内容不符的事件")
    lines += [f"审计日志中有而 Kafka 上没有：事件 {i}" for i in report.not_on_kafka]
    if report.not_on_kafka_count > len(report.not_on_kafka):
        lines.append(f"……共 {report.not_on_kafka_count} 条 Kafka 上没有的事件")
    lines += [f"伪造重放（同一事件编号、内容不同，应已被拒绝并记录）：事件 {e.event_id}，"
              f"{e.topic} 分区 {e.partition} 偏移 {e.offset}" for e in report.forged_copies]
    lines.append("结论：审计日志与 Kafka 一致" if report.agrees else "结论：审计日志与 Kafka 不一致，请立即核查")
    return lines


async def logged_from_database(conn: asyncpg.Connection, *, chunk: int = 10_000) -> dict[UUID, str]:
    """event_id → sha256 of the stored envelope, read in seq order a chunk at a time."""
    logged: dict[UUID, str] = {}
    after = 0
    while rows := await conn.fetch("SELECT seq, event_id, encode(sha256(convert_to(envelope, 'UTF8')), 'hex') AS sha"
                                   " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", after, chunk):
        logged.update((r["event_id"], r["sha"]) for r in rows)
        after = rows[-1]["seq"]
    return logged


async def still_missing(conn: asyncpg.Connection, report: ReconcileReport) -> None:
    """Drop from `missing` what the consumer logged since `logged` was read: lag, not loss."""
    ids = [e.event_id for e in report.missing]
    arrived = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM audit_log WHERE event_id = ANY($1)", ids)}
    if arrived:
        report.missing = [e for e in report.missing if e.event_id not in arrived]
        report.missing_count -= len(arrived)
        report.matched += len(arrived)


async def run(*, bootstrap: str, database_url: str, schema: str, timeout: float, quiet: bool) -> ReconcileReport:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        logged = await logged_from_database(conn)
        with kafka_scan.progress_bar("核对 Kafka 事件", disable=quiet) as progress:
            report = await reconcile(bootstrap, logged, progress=progress, stall_timeout=timeout)
        await still_missing(conn, report)
    finally:
        await conn.close()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.audit.reconcile",
                                     description="核对审计日志与 Kafka 事件主题是否一致")
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka, e.g. kafka:9092")
    parser.add_argument("--database-url", required=True, help="PostgreSQL holding audit's schema")
    parser.add_argument("--schema", default="audit", help="audit's schema (default: audit)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds without progress before giving up")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        report = asyncio.run(run(bootstrap=args.bootstrap_servers, database_url=args.database_url, schema=args.schema,
                                 timeout=args.timeout, quiet=args.quiet))
    except kafka_scan.ScanFailed as exc:
        print(str(exc), flush=True)
        return UNUSABLE
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"连接失败：{exc}", flush=True)
        return UNUSABLE
    print("\n".join(report_lines(report)), flush=True)
    return OK if report.agrees else DIFFERENT


if __name__ == "__main__":
    sys.exit(main())
