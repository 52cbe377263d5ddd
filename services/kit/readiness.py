"""/readyz: what a load balancer needs to know, answered on its own connection.

Ready means this instance can serve HTTP: its database answers and its relay is not broken.
Kafka's state is reported but does not gate: with Kafka down the outbox keeps the events and
the relay sends them once Kafka is back, so taking cases in goes on. A standby relay (another
instance holds the lock) is normal. A relay that is stuck (rows wait longer than
`relay_stuck_after` and none was published for as long) or whose loop keeps failing while
Kafka answers makes the instance not ready, so it is restarted and a standby takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.kit.outbox import OutboxRelay

BROKEN = frozenset({"stuck", "failing"})
PENDING_AGE = ("SELECT extract(epoch FROM now() - min(recorded_at))::float8"
               " FROM events WHERE published_at IS NULL")


@dataclass(frozen=True)
class RelayFacts:
    state: str
    failures: int
    since_progress: float  # seconds since a batch was last published
    oldest_pending_age: float | None  # seconds the oldest unpublished row has waited; None: none waits
    kafka_ok: bool


def relay_verdict(facts: RelayFacts, *, stuck_after: float, failures_tolerated: int) -> str:
    """starting | standby | active | waiting_for_kafka | failing | stuck (the last two: not ready)."""
    if facts.state in ("starting", "standby") and facts.failures == 0:
        return facts.state
    if not facts.kafka_ok:
        return "waiting_for_kafka" if facts.failures or facts.oldest_pending_age else facts.state
    if facts.failures >= failures_tolerated:
        return "failing"
    waiting = facts.oldest_pending_age is not None and facts.oldest_pending_age > stuck_after
    if waiting and facts.since_progress > stuck_after:
        return "stuck"
    return "active" if facts.state == "failing" else facts.state


@dataclass
class ReadinessProbe:
    """Checks on a dedicated connection, at most once per `ttl`: a burst of probes costs one query,
    and a pool exhausted by business requests does not make the instance look dead."""

    dsn: str
    schema: str
    broker: Any
    relay: OutboxRelay | None = None
    stuck_after: float = 60.0
    failures_tolerated: int = 5
    ttl: float = 1.0
    timeout: float = 2.0
    slow_grace: float = 5.0  # a probe query slower than `timeout` counts as down only after this long
    _conn: asyncpg.Connection | None = field(default=None, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _cached: tuple[float, bool, dict[str, Any]] | None = field(default=None, init=False, repr=False)
    _slow_since: float | None = field(default=None, init=False, repr=False)

    async def check(self) -> tuple[bool, dict[str, Any]]:
        async with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.ttl:
                ready, report = await self._check_now()
                self._cached = (time.monotonic(), ready, report)
            return self._cached[1], self._cached[2]

    async def _check_now(self) -> tuple[bool, dict[str, Any]]:
        database, pending_age = await self._database()
        kafka = await self._kafka()
        relay = self._relay(pending_age, kafka)
        ready = database and relay["status"] not in BROKEN
        checks = {"database": database, "kafka": kafka, "relay": relay["status"]}
        return ready, {"status": "ready" if ready else "not_ready", "checks": checks, "relay": relay}

    async def _database(self) -> tuple[bool, float | None]:
        """Refused or broken connections count at once; a slow answer (a busy event loop or server
        during a burst) only after `slow_grace`, so readiness does not flap under load."""
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(
                    self.dsn, timeout=self.timeout,
                    server_settings={"search_path": self.schema, "application_name": f"bianmin-{self.schema}-probe"})
            pending_age = await self._conn.fetchval(PENDING_AGE, timeout=self.timeout)
        except TimeoutError:
            self._slow_since = self._slow_since or time.monotonic()
            return time.monotonic() - self._slow_since < self.slow_grace, None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self.close()
            return False, None
        self._slow_since = None
        return True, pending_age

    async def _kafka(self) -> bool:
        with contextlib.suppress(Exception):
            return bool(await self.broker.ping(timeout=self.timeout))
        return False

    def _relay(self, pending_age: float | None, kafka: bool) -> dict[str, Any]:
        if self.relay is None:
            return {"status": "starting"}
        facts = RelayFacts(state=self.relay.state, failures=self.relay.failures,
                           since_progress=time.monotonic() - self.relay.last_progress_at,
                           oldest_pending_age=pending_age, kafka_ok=kafka)
        status = relay_verdict(facts, stuck_after=self.stuck_after, failures_tolerated=self.failures_tolerated)
        return {"status": status, "failures": facts.failures, "oldest_pending_seconds": pending_age,
                "seconds_since_progress": round(facts.since_progress, 1)}

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=self.timeout)
