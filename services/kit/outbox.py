"""The relay: publishes a service's unpublished events to Kafka in commit order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Protocol

import asyncpg

from services.kit.eventstore import NOTIFY_CHANNEL
from services.kit.faults import describe, is_record_refused
from services.kit.loops import Backoff, LoopStats, run_forever
from services.kit.metrics import record_loop_success, record_published
from services.kit.telemetry import continued_from

log = logging.getLogger(__name__)
BATCH = 500  # rows per pass: one SELECT and one UPDATE for up to this many Kafka sends
LOOP = "outbox-relay"  # the loop's name in logs and metrics


class NotAnEnvelope(ValueError):
    """A row whose body is not an envelope (only a hand-made row can be: append checks)."""


def _schema_version(body: bytes) -> str:
    try:
        version = json.loads(body).get("schema_version")
    except (ValueError, AttributeError) as exc:
        raise NotAnEnvelope("body is not a JSON object") from exc
    if not isinstance(version, str):
        raise NotAnEnvelope("envelope without a schema_version")
    return version


class Publish(Protocol):
    async def __call__(self, *, topic: str, body: bytes, key: bytes, headers: dict[str, str]) -> Any: ...


class OutboxRelay:
    """One active relay per service schema (advisory lock); others wait as standbys.

    Rows are sent in `position` order; all sends of a batch are confirmed (acks=all,
    idempotent producer) before they are marked published. A crash in between only
    republishes, and consumers drop the duplicate by event id.
    """

    def __init__(self, *, dsn: str, schema: str, publish: Publish, poll_interval: float = 0.5) -> None:
        self._dsn, self._schema, self._publish, self._poll = dsn, schema, publish, poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published_count = 0
        self.set_aside_count = 0  # rows Kafka refused for good (see publish_pending)
        self.active = False
        self.loop_stats = LoopStats()
        # Bookkeeping for /readyz (services.kit.readiness), apart from how rows are published.
        self.state = "starting"  # starting | standby (waiting for the lock) | active | failing
        self.failures = 0  # loops failed in a row
        self.last_progress_at = time.monotonic()  # when a batch was last published

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._schema}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        await run_forever(LOOP, self._round, interval=self._poll, stats=self.loop_stats,
                          backoff=Backoff(first=0.5, max=10.0), service=self._schema)

    async def _round(self) -> bool:
        try:
            return await self._serve()
        except Exception:
            self._failed()  # for /readyz; run_forever logs it and retries after a backoff
            raise

    async def _serve(self) -> bool:
        """Publishes for as long as the connection lives; a failure ends it and the loop reconnects."""
        conn = await asyncpg.connect(self._dsn, server_settings={"search_path": self._schema})
        try:
            self.state = "standby"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", f"relay:{self._schema}"):
                record_loop_success(self._schema, LOOP)  # a standby that can ask for the lock is healthy
                await asyncio.sleep(2.0)
            self.active, self.state = True, "active"
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            while True:
                sent = await self.publish_pending(conn)
                self._progressed(sent)
                if sent < BATCH:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll)
        finally:
            self.active = False
            with contextlib.suppress(Exception):
                await conn.close()

    def _failed(self) -> None:
        self.state, self.failures = "failing", self.failures + 1

    def _progressed(self, sent: int) -> None:
        """A pass that raised nothing: the loop works; rows sent count as progress."""
        self.failures = 0
        record_loop_success(self._schema, LOOP)
        if sent:
            self.last_progress_at = time.monotonic()

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """Publish the next batch in commit order; returns how many rows it settled.

        A row Kafka refuses for good (too large, invalid, not encodable) is set aside and the
        others go on: one bad row never stops other cases. Any other failure raises, and the
        whole batch is sent again later, in the same order.
        """
        rows = await conn.fetch(
            "SELECT position, event_id, case_id, event_type, topic, body, traceparent FROM events"
            " WHERE published_at IS NULL AND set_aside_at IS NULL ORDER BY position LIMIT $1", BATCH,
        )
        if not rows:
            return 0
        sent: list[tuple[asyncpg.Record, Any]] = []
        for row in rows:
            try:
                sent.append((row, await self._send(row)))
            except Exception as exc:  # noqa: BLE001 - set aside or re-raised
                await self._set_aside_or_raise(conn, row, exc)
        published = []
        for row, confirmation in sent:
            try:
                if isinstance(confirmation, asyncio.Future):
                    await confirmation
                published.append(row["position"])
            except Exception as exc:  # noqa: BLE001 - set aside or re-raised
                await self._set_aside_or_raise(conn, row, exc)
        await conn.execute("UPDATE events SET published_at = now() WHERE position = ANY($1::bigint[])", published)
        self.published_count += len(published)
        record_published(self._schema, len(published))
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> Any:
        body = row["body"].encode()
        schema_version = _schema_version(body)
        with continued_from(row["traceparent"]):
            return await self._publish(
                topic=row["topic"], body=body, key=str(row["case_id"]).encode(),
                headers={"event_type": row["event_type"], "schema_version": schema_version},
            )

    async def _set_aside_or_raise(self, conn: asyncpg.Connection, row: asyncpg.Record, exc: Exception) -> None:
        if not (is_record_refused(exc) or isinstance(exc, NotAnEnvelope)):
            raise exc
        reason = describe(exc)
        await conn.execute("UPDATE events SET set_aside_at = now(), set_aside_reason = $2 WHERE position = $1",
                           row["position"], reason)
        self.set_aside_count += 1
        log.error("event refused by Kafka for good; set aside, relay goes on",
                  extra={"event_id": str(row["event_id"]), "case_id": str(row["case_id"]),
                         "topic": row["topic"], "reason": reason})
