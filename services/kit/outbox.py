"""The relay: publishes a service's unpublished events to Kafka in commit order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

import asyncpg

from services.kit.eventstore import NOTIFY_CHANNEL
from services.kit.telemetry import continued_from

log = logging.getLogger(__name__)
BATCH = 200


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
        self.active = False
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
        while True:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; restarting", extra={"schema": self._schema})
                self.active = False
                self._failed()
                await asyncio.sleep(1.0)

    async def _serve(self) -> None:
        conn = await asyncpg.connect(self._dsn, server_settings={"search_path": self._schema})
        try:
            self.state = "standby"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", f"relay:{self._schema}"):
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
        if sent:
            self.last_progress_at = time.monotonic()

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(
            "SELECT position, case_id, event_type, topic, body, traceparent, body::json->>'schema_version' AS schema_version"
            " FROM events"
            " WHERE published_at IS NULL ORDER BY position LIMIT $1", BATCH,
        )
        if not rows:
            return 0
        confirmations = []
        for row in rows:
            with continued_from(row["traceparent"]):
                confirmations.append(await self._publish(
                    topic=row["topic"], body=row["body"].encode(), key=str(row["case_id"]).encode(),
                    headers={"event_type": row["event_type"], "schema_version": row["schema_version"]},
                ))
        for confirmation in confirmations:
            if isinstance(confirmation, asyncio.Future):
                await confirmation
        await conn.execute(
            "UPDATE events SET published_at = now() WHERE position = ANY($1::bigint[])", [r["position"] for r in rows]
        )
        self.published_count += len(rows)
        return len(rows)
