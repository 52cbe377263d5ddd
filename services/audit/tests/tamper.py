"""What a database owner could do behind audit's back, for the tests that must catch it."""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from services.audit import domain


async def rewrite_township(dsn: str, seq: int) -> None:
    """Changes one stored record's township, as the owner who can switch the triggers off."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        await conn.execute("UPDATE audit_log SET envelope = replace(envelope, '\"qingshui\"', '\"baishi\"')"
                           " WHERE seq = $1", seq)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def rewrite_consistently(conn: asyncpg.Connection, edited_seq: int) -> None:
    """Changes one record, then recomputes every hash from it on, as an owner who knows the algorithm would."""
    rows = await conn.fetch("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq", edited_seq)
    prev = await conn.fetchval("SELECT prev_hash FROM audit_log WHERE seq = $1", edited_seq)
    for row in rows:
        record = domain.AuditRecord(**dict(row))
        if record.seq == edited_seq:
            assert '"qingshui"' in record.envelope
            record = replace(record, township_id="baishi", envelope=record.envelope.replace('"qingshui"', '"baishi"'))
        record = replace(record, prev_hash=prev)
        record = replace(record, hash=domain.record_hash(record))
        await conn.execute("UPDATE audit_log SET township_id = $2, envelope = $3, prev_hash = $4, hash = $5"
                           " WHERE seq = $1", record.seq, record.township_id, record.envelope, record.prev_hash,
                           record.hash)
        prev = record.hash
async def delete_record(dsn: str, event_id) -> None:
    """Removes one event from the log, as the owner who can switch the triggers off."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_log WHERE event_id = $1", event_id)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        await conn.close()
