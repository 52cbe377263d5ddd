"""What a database owner could do behind audit's back, for the tests that must catch it."""

from __future__ import annotations

import asyncpg


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


async def delete_record(dsn: str, event_id) -> None:
    """Removes one event from the log, as the owner who can switch the triggers off."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "audit"})
    try:
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_log WHERE event_id = $1", event_id)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        await conn.close()
