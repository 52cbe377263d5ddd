"""A batch appended through batch_append.record_events leaves exactly the rows that commands.record_event
leaves appending the same events one by one: the chain, the Merkle tree, the gaps, the read model and the
hall's visits, row by row; and the batch-built log verifies and can be signed. On real PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.envelope import Actor, Envelope
from contracts.events import (
    ServiceEnded,
    ServiceEndedPayload,
    ServiceStarted,
    ServiceStartedPayload,
    TicketCalled,
    TicketCalledPayload,
    TicketIssued,
    TicketIssuedPayload,
)
from services.audit import batch_append, commands, handlers, merkle_store, roles
from services.audit.tests.builders import T0, _envelope, assigned, completed, rated, submitted, transferred
from services.kit.db import apply_migrations, create_pool
from services.kit.inbox import Delivery

pytestmark = pytest.mark.integration
SERVICE_DIR = Path(commands.__file__).parent
TABLES = ("audit_log", "merkle_nodes", "stream_gaps", "audit_read_model_state", "audit_cases", "audit_event_index",
          "audit_staff", "audit_roster_days", "audit_absences", "audit_complaints", "audit_bad_ratings", "hall_visits")


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
async def schemas(make_database):
    dsn = await make_database("it_audit_batch")
    pools = {}
    for schema in ("one_by_one", "batched"):
        pools[schema] = await create_pool(dsn, schema)
        await apply_migrations(pools[schema], schema, SERVICE_DIR)
    try:
        yield dsn, pools
    finally:
        for pool in pools.values():
            await pool.close()


def _visit(township: str) -> list[Envelope]:
    ticket, staff = uuid4(), Actor(kind="staff", id="window-01")

    def event(cls, payload, version):
        return _envelope(cls, ticket, source="intake", version=version, payload=payload, township=township,
                         minutes=version, actor=staff)

    return [event(TicketIssued, TicketIssuedPayload(ticket_no="A001", queue="civil_affairs", issued_at=T0), 1),
            event(TicketCalled, TicketCalledPayload(ticket_no="A001", window_no="1", staff_id=staff.id,
                                                    wait_seconds=300), 2),
            event(ServiceStarted, ServiceStartedPayload(ticket_no="A001", window_no="1", staff_id=staff.id,
                                                        wait_seconds=360), 3),
            event(ServiceEnded, ServiceEndedPayload(ticket_no="A001", outcome="served", service_seconds=600), 4)]


def random_events(rng: random.Random) -> list[Envelope]:
    """Cases and tickets, shuffled (versions out of order: gaps opened, then closed), some lost (gaps left
    open), some delivered twice, one replayed with other content (refused)."""
    events: list[Envelope] = []
    for n in range(8):
        case_id, township = uuid4(), rng.choice(["qingshui", "baishi"])
        events += [submitted(case_id, township=township), assigned(case_id, version=1, township=township),
                   transferred(case_id, version=2, township=township), completed(case_id, version=3, township=township),
                   rated(case_id, version=2, township=township)]
        if n % 3 == 0:
            events += _visit(township)
    rng.shuffle(events)
    events = [e for e in events if rng.random() > 0.1]
    for _ in range(6):
        events.insert(rng.randrange(len(events) + 1), rng.choice(events))
    forged = rng.choice(events)
    events.insert(rng.randrange(len(events) + 1), forged.model_copy(update={"township_id": "forged"}))
    return events


def batches(rng: random.Random, events: list[Envelope]) -> list[list[Envelope]]:
    cut, start = [], 0
    while start < len(events):
        size = rng.choice([1, 2, 5, 17, 60])  # 60: past COPY_FROM, so COPY is exercised too
        cut.append(events[start:start + size])
        start += size
    return cut


async def table_rows(pool: asyncpg.Pool, table: str) -> list[tuple]:
    async with pool.acquire() as conn:
        return sorted((tuple(r) for r in await conn.fetch(f"SELECT * FROM {table}")), key=repr)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_batches_leave_the_rows_one_by_one_appends_leave(schemas, seed):
    _, pools = schemas
    rng = random.Random(seed)
    events = random_events(rng)

    single = []
    for event in events:
        async with pools["one_by_one"].acquire() as conn, conn.transaction():
            single.append(await commands.record_event(conn, event, now=T0))
    batched = []
    for batch in batches(rng, events):
        async with pools["batched"].acquire() as conn, conn.transaction():
            batched += await batch_append.record_events(conn, [batch_append.Item(e, None) for e in batch], now=T0)

    assert batched == single and single.count(False) >= 7  # duplicates and the forged replay refused
    async with pools["one_by_one"].acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM stream_gaps WHERE closed_at IS NOT NULL") > 0
        assert await conn.fetchval("SELECT count(*) FROM hall_visits") > 0
    for table in TABLES:
        assert await table_rows(pools["batched"], table) == await table_rows(pools["one_by_one"], table), table


async def test_a_batch_built_log_verifies_and_is_signed(schemas):
    _, pools = schemas
    rng = random.Random(7)
    events = random_events(rng)
    for batch in batches(rng, events):
        async with pools["batched"].acquire() as conn, conn.transaction():
            await batch_append.record_events(conn, [batch_append.Item(e, "0" * 32) for e in batch], now=T0)

    integrity = await commands.verify_integrity(pools["batched"], FixedClock(T0), chunk=13)
    assert integrity.chain.first_bad is None and integrity.chain.records == len({e.event_id for e in events})
    signed = await commands.append_checkpoint(pools["batched"], Ed25519PrivateKey.generate(), now=T0, chunk=13)
    assert signed is not None and signed.payload.head_seq == integrity.chain.records  # leaves and tree checked
    async with pools["batched"].acquire() as conn:
        assert await merkle_store.size(conn) == integrity.chain.records


async def test_the_inbox_batch_handler_appends_as_the_restricted_role(schemas):
    dsn, pools = schemas
    role, password = "bianmin_audit_batch_test", "batch-test-password"
    async with pools["batched"].acquire() as owner:
        await roles.ensure_login_role(owner, role, password)
        await roles.grant_runtime_rights(owner, "batched", role)
    pool = await create_pool(roles.with_role(dsn, role, password), "batched", create_schema=False)
    cases = [uuid4() for _ in range(20)]  # 60 records: COPY, and a gap (version 2) per case
    events = [e for c in cases for e in (submitted(c), assigned(c, version=1), completed(c, version=3))]
    record_batch = handlers.batch_recorder(SimpleNamespace(clock=FixedClock(T0)))  # type: ignore[arg-type]
    try:
        async with pool.acquire() as conn, conn.transaction():
            await record_batch(conn, [(Delivery("t", 0, n), e) for n, e in enumerate(events)])
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM audit_log") == len(events)
            assert await conn.fetchval("SELECT count(*) FROM stream_gaps WHERE closed_at IS NULL") == 20
            assert await conn.fetchval("SELECT count(*) FROM audit_cases WHERE completed_at IS NOT NULL") == 20
    finally:
        await pool.close()
    integrity = await commands.verify_integrity(pools["batched"], FixedClock(T0), chunk=50)
    assert integrity.chain.first_bad is None and integrity.chain.records == len(events)
