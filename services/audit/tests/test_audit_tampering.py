"""What the database owner can still do (disable the triggers, then change or delete rows)
is caught by verifying the hash chain. Each test breaks its chain, so each gets a fresh database."""

from __future__ import annotations

from contextlib import asynccontextmanager

import asyncpg
import pytest

from services.audit import domain
from services.audit.tests.probes import audit_with_one_case, integrity

pytestmark = pytest.mark.integration


@pytest.fixture
async def chained(infra, make_database):
    """A fresh audit holding three events of one case: (client, dsn, their records in seq order)."""
    async with audit_with_one_case(infra, make_database, "it_audit_tamper", integrity_chunk=2) as (client, dsn, records, _):
        assert (await integrity(client))["valid"] is True
        yield client, dsn, records


@asynccontextmanager
async def owner(dsn: str, *, bypass_triggers: bool):
    """A superuser session on the audit schema, optionally with user triggers skipped."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        if bypass_triggers:
            await conn.execute("SET session_replication_role = replica")
        yield conn
    finally:
        await conn.close()


async def _next_seq(conn: asyncpg.Connection, seq: int) -> asyncpg.Record:
    return await conn.fetchrow("SELECT seq, event_id FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1", seq)


async def test_changed_row_is_a_hash_mismatch_and_rehashing_it_breaks_the_next_link(chained):
    client, dsn, records = chained
    target = records[0]  # two more of ours follow it, so it has a successor
    async with owner(dsn, bypass_triggers=False) as conn:
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        changed = await conn.fetchval(
            "UPDATE audit_log SET envelope = replace(envelope, '\"qingshui\"', '\"baishi\"') WHERE seq = $1"
            " RETURNING envelope", target["seq"])
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    assert '"township_id":"baishi"' in changed
    report = await integrity(client)
    assert report["valid"] is False
    assert report["first_bad"] == {"seq": target["seq"], "event_id": target["event_id"], "reason": "hash_mismatch"}

    # An owner who knows the algorithm rehashes the row: its successor no longer links to it.
    async with owner(dsn, bypass_triggers=True) as conn:
        [row] = await conn.fetch("SELECT * FROM audit_log WHERE seq = $1", target["seq"])
        forged = domain.AuditRecord(**dict(row))
        await conn.execute("UPDATE audit_log SET hash = $2 WHERE seq = $1", forged.seq, domain.record_hash(forged))
        successor = await _next_seq(conn, target["seq"])
    report = await integrity(client)
    assert report["first_bad"] == {"seq": successor["seq"], "event_id": str(successor["event_id"]),
                                   "reason": "prev_hash_mismatch"}


async def test_deleted_middle_row_is_a_seq_gap(chained):
    client, dsn, records = chained
    async with owner(dsn, bypass_triggers=True) as conn:
        await conn.execute("DELETE FROM audit_log WHERE seq = $1", records[1]["seq"])
        successor = await _next_seq(conn, records[1]["seq"])
        remaining = await conn.fetchval("SELECT count(*) FROM audit_log")
    report = await integrity(client)
    assert report["valid"] is False
    assert report["first_bad"] == {"seq": successor["seq"], "event_id": str(successor["event_id"]), "reason": "seq_gap"}
    # The walk goes on past the break to the head.
    assert report["records"] >= remaining and report["head_seq"] >= records[2]["seq"]
