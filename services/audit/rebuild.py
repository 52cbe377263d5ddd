"""Rebuild the audit log from Kafka into a fresh schema, and compare it with the live one.

    python -m services.audit.rebuild --bootstrap-servers kafka:9092 \\
        --database-url postgresql://owner@db/bianmin --schema audit_rebuild

Creates the schema with audit's migrations, replays every event topic from the beginning through
the consumer's append path in batches (batch_append.record_events: the same rows as one event at a
time; forged replays refused the same way), one transaction each, with a progress bar on stderr, and
prints the rate. Then it verifies the new chain and compares it with the live schema, event by event: the same events,
the same envelopes and trace ids, so every case has the same history. `seq`, `recorded_at` and
therefore the hashes differ by design: topics are read in another interleaving than the live
consumer saw, at another time. Live events recorded after the rebuild started are left out.
Exit code 0: the chain verifies and the histories are equal; 1: they are not; 2: usage or connection error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
from opentelemetry import context, propagate
from pydantic import ValidationError

from contracts.events import parse_event
from contracts.topics import EVENT_TOPICS
from services.audit import batch_append, commands, kafka_scan, replays
from services.kit.clock import Clock, SystemClock
from services.kit.db import apply_migrations, create_pool
from services.kit.inbox import Delivery
from services.kit.telemetry import current_traceparent, trace_id_of

OK, DIFFERENT, UNUSABLE = 0, 1, 2
SERVICE_DIR = Path(__file__).parent
NAMED_LIMIT = 100


class RebuildRefused(Exception):
    """The target schema cannot be used (Chinese message)."""


@dataclass
class Replayed:
    read: int = 0
    appended: int = 0
    duplicates: int = 0  # the same event again: a redelivery on the topic
    refused: int = 0  # a known event_id with other content
    unreadable: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


@dataclass
class Comparison:
    """The rebuilt log against the live one, by event_id."""

    only_live: list[UUID] = field(default_factory=list)  # in the live log, not on Kafka
    only_rebuilt: list[UUID] = field(default_factory=list)  # on Kafka, not in the live log
    differing: list[UUID] = field(default_factory=list)  # other envelope or trace id
    cases_compared: int = 0
    cases_differing: int = 0

    @property
    def equal(self) -> bool:
        return not (self.only_live or self.only_rebuilt or self.differing)


@dataclass(frozen=True)
class Outcome:
    replayed: Replayed
    integrity: commands.Integrity
    comparison: Comparison

    @property
    def code(self) -> int:
        return OK if self.integrity.chain.first_bad is None and self.comparison.equal else DIFFERENT


async def prepare(dsn: str, schema: str, *, live_schema: str, replace: bool) -> asyncpg.Pool:
    """A pool on a fresh schema with audit's migrations applied."""
    if schema == live_schema:
        raise RebuildRefused(f"目标 schema 不能是正在使用的 {live_schema}")
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{live_schema}".audit_log'):
            raise RebuildRefused(f"数据库中没有审计日志 {live_schema}.audit_log，无从比对")
        exists = await conn.fetchval("SELECT true FROM information_schema.schemata WHERE schema_name = $1", schema)
        if exists and not replace:
            raise RebuildRefused(f"schema {schema} 已存在；要重建请加 --replace（将删除其全部内容）")
        if exists:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await conn.close()
    pool = await create_pool(dsn, schema, min_size=1, max_size=2)
    await apply_migrations(pool, schema, SERVICE_DIR)
    return pool


def _trace_id(record: ConsumerRecord) -> str | None:
    """The producer's trace id, from the message's traceparent, as the consumer's telemetry reads it."""
    headers = {k: v.decode(errors="replace") for k, v in record.headers or () if k == "traceparent"}
    if not headers:
        return None
    token = context.attach(propagate.extract(headers))
    try:
        return trace_id_of(current_traceparent())
    finally:
        context.detach(token)


async def append_batch(conn: asyncpg.Connection, records: Sequence[ConsumerRecord], replayed: Replayed,
                       clock: Clock) -> None:
    """One transaction per batch, appended in one go (batch_append: the rows the consumer's one-by-one
    appends make); an event already logged is a redelivery, or a forged replay refused as the consumer does."""
    items: list[batch_append.Item] = []
    deliveries: list[Delivery] = []
    for record in records:
        try:
            event = parse_event(record.value or b"")
        except (ValueError, ValidationError):
            replayed.unreadable += 1
            continue
        items.append(batch_append.Item(event, _trace_id(record)))
        deliveries.append(Delivery(record.topic, record.partition, record.offset))
    async with conn.transaction():
        fresh = await batch_append.record_events(conn, items, now=clock.now())
        for item, delivery, is_fresh in zip(items, deliveries, fresh, strict=True):
            if is_fresh:
                replayed.appended += 1
            elif await replays.check_duplicate(conn, item.event, delivery, now=clock.now()):
                replayed.refused += 1
            else:
                replayed.duplicates += 1
    replayed.read += len(records)


async def replay(pool: asyncpg.Pool, bootstrap: str, *, clock: Clock, batch: int, quiet: bool,
                 topics: Sequence[str] = EVENT_TOPICS, stall_timeout: float = 60.0,
                 start: Mapping[TopicPartition, int] | None = None) -> Replayed:
    replayed = Replayed()
    started = time.monotonic()
    async with pool.acquire() as conn:
        with kafka_scan.progress_bar("从 Kafka 重建审计日志", disable=quiet) as progress:
            async for records in kafka_scan.scan(bootstrap, topics, progress=progress, batch=batch,
                                                 stall_timeout=stall_timeout, start=start):
                await append_batch(conn, records, replayed, clock)
    replayed.seconds = time.monotonic() - started
    return replayed


async def compare(conn: asyncpg.Connection, *, rebuilt: str, live: str, started_at: datetime) -> Comparison:
    """Event by event; live events recorded after `started_at` may not have been on Kafka yet, so left out."""
    rows = await conn.fetch(
        f'SELECT r.event_id AS rebuilt, l.event_id AS live, coalesce(r.case_id, l.case_id) AS case_id'
        f' FROM "{rebuilt}".audit_log r FULL JOIN (SELECT * FROM "{live}".audit_log WHERE recorded_at < $1) l'
        f' ON l.event_id = r.event_id'
        f' WHERE l.event_id IS NULL OR r.event_id IS NULL OR l.envelope <> r.envelope'
        # a live event that came without a traceparent got the consumer's own trace id
        f' OR (r.trace_id IS NOT NULL AND l.trace_id IS DISTINCT FROM r.trace_id)', started_at)
    result = Comparison()
    for row in rows:
        if row["rebuilt"] is None:
            result.only_live.append(row["live"])
        elif row["live"] is None:
            result.only_rebuilt.append(row["rebuilt"])
        else:
            result.differing.append(row["live"])
    result.cases_differing = len({r["case_id"] for r in rows})
    result.cases_compared = await conn.fetchval(
        f'SELECT count(*) FROM (SELECT case_id FROM "{rebuilt}".audit_log UNION'
        f' SELECT case_id FROM "{live}".audit_log WHERE recorded_at < $1) c', started_at)
    return result


async def rebuild(*, bootstrap: str, database_url: str, schema: str, live_schema: str = "audit",
                  replace: bool = False, batch: int = 5000, quiet: bool = False, clock: Clock | None = None,
                  topics: Sequence[str] = EVENT_TOPICS, stall_timeout: float = 60.0,
                  start: Mapping[TopicPartition, int] | None = None) -> Outcome:
    """Rebuild into `schema` and compare with `live_schema`. `start` (offsets per partition) is for
    tests on a shared Kafka; a real rebuild reads from the beginning."""
    clock = clock or SystemClock()
    started_at = clock.now()
    pool = await prepare(database_url, schema, live_schema=live_schema, replace=replace)
    try:
        replayed = await replay(pool, bootstrap, clock=clock, batch=batch, quiet=quiet, topics=topics,
                                stall_timeout=stall_timeout, start=start)
        integrity = await commands.verify_integrity(pool, clock, chunk=5000)
        async with pool.acquire() as conn:
            comparison = await compare(conn, rebuilt=schema, live=live_schema, started_at=started_at)
    finally:
        await pool.close()
    return Outcome(replayed=replayed, integrity=integrity, comparison=comparison)


def outcome_lines(outcome: Outcome, *, schema: str, live_schema: str) -> list[str]:
    r, chain, c = outcome.replayed, outcome.integrity.chain, outcome.comparison
    lines = [f"读取 Kafka 事件 {r.read} 条，用时 {r.seconds:.1f} 秒，速率 {r.rate:.0f} 条/秒",
             f"写入 {schema}：新增 {r.appended} 条，重复投递 {r.duplicates} 条，拒绝伪造重放 {r.refused} 条，"
             f"无法解析 {r.unreadable} 条",
             f"哈希链：{chain.records} 条记录，" + ("完整" if chain.first_bad is None else
                                                   f"在序号 {chain.first_bad.seq} 处断裂（{chain.first_bad.reason}）"),
             f"与 {live_schema} 比对办件 {c.cases_compared} 个，不一致 {c.cases_differing} 个"]
    lines += [f"仅在 {live_schema} 中（Kafka 上没有）：事件 {i}" for i in c.only_live[:NAMED_LIMIT]]
    lines += [f"仅在 Kafka 上（{live_schema} 中缺失）：事件 {i}" for i in c.only_rebuilt[:NAMED_LIMIT]]
    lines += [f"内容不一致：事件 {i}" for i in c.differing[:NAMED_LIMIT]]
    lines.append("结论：重建的审计日志与现有日志一致" if outcome.code == OK else "结论：重建的审计日志与现有日志不一致，请核查")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.audit.rebuild",
                                     description="从 Kafka 全部事件主题重建审计日志，并与现有日志比对")
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka, e.g. kafka:9092")
    parser.add_argument("--database-url", required=True, help="PostgreSQL, as the owner of audit's schema")
    parser.add_argument("--schema", required=True, help="the new schema, e.g. audit_rebuild")
    parser.add_argument("--live-schema", default="audit", help="the schema to compare with (default: audit)")
    parser.add_argument("--replace", action="store_true", help="drop --schema first if it exists")
    parser.add_argument("--batch", type=int, default=5000, help="events per transaction")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds without progress before giving up")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        outcome = asyncio.run(rebuild(bootstrap=args.bootstrap_servers, database_url=args.database_url,
                                      schema=args.schema, live_schema=args.live_schema, replace=args.replace,
                                      batch=args.batch, quiet=args.quiet, stall_timeout=args.timeout))
    except (RebuildRefused, kafka_scan.ScanFailed) as exc:
        print(str(exc), flush=True)
        return UNUSABLE
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"连接失败：{exc}", flush=True)
        return UNUSABLE
    print("\n".join(outcome_lines(outcome, schema=args.schema, live_schema=args.live_schema)), flush=True)
    return outcome.code


if __name__ == "__main__":
    sys.exit(main())
