"""PostgreSQL pool per service schema, and the versioned migrations applied at start."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import asyncpg
import asyncpg.compat

log = logging.getLogger(__name__)
KIT_MIGRATIONS = Path(__file__).parent / "migrations"


class BoundedPool(asyncpg.pool.Pool):
    """A pool whose `acquire()` gives up after `acquire_timeout` seconds by default (TimeoutError),
    so a request waits a bounded time for a connection instead of queueing without end.

    Not `acquire(timeout=...)`: asyncpg also applies that timeout to the connection's reset on
    release, which under load terminates healthy connections and fails committed work.
    """

    __slots__ = ("acquire_timeout",)

    async def _acquire(self, timeout):  # both `async with pool.acquire()` and `await pool.acquire()` come here
        if timeout is None and self.acquire_timeout is not None:
            return await asyncpg.compat.wait_for(super()._acquire(None), timeout=self.acquire_timeout)
        return await super()._acquire(timeout)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (RESET ALL, CLOSE ALL, UNLISTEN *, unlock all),
    one round trip and four statements on every release: a fifth of all statements on the busy path.

    Nothing pooled keeps session state: settings are per connection (server_settings) or SET LOCAL,
    cursors live inside transactions, LISTEN and session advisory locks use their own connections
    (the relay) or are released in `finally` (migrations). asyncpg still rolls back an open
    transaction and drops listeners before calling this.
    """


async def create_pool(dsn: str, schema: str, *, min_size: int = 2, max_size: int = 10,
                      acquire_timeout: float | None = None, create_schema: bool = True) -> asyncpg.Pool:
    """A pool whose connections see only this service's schema (created first, as the owner)."""
    if create_schema:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        finally:
            await admin.close()
    # asyncpg.create_pool's own defaults, with our class.
    pool = BoundedPool(dsn, min_size=min_size, max_size=max_size, max_queries=50000, loop=None,
                       max_inactive_connection_lifetime=300.0, connection_class=asyncpg.Connection,
                       record_class=asyncpg.Record,
                       server_settings={"search_path": schema, "application_name": f"bianmin-{schema}"},
                       reset=_keep_session)
    pool.acquire_timeout = acquire_timeout
    return await pool


def _migration_files(*dirs: Path) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for d in dirs:
        prefix = "kit" if d == KIT_MIGRATIONS else "svc"
        files += [(f"{prefix}/{p.name}", p) for p in sorted(d.glob("*.sql"))]
    return files


async def apply_migrations(pool: asyncpg.Pool, schema: str, service_dir: Path) -> list[str]:
    """Apply unapplied numbered SQL files in order, each in its own transaction.

    An advisory lock keeps two instances of a service from migrating at once; a checksum
    catches an applied file that was edited afterwards (add a new file instead).
    """
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrate:{schema}")
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"]: r["checksum"] for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")}
            for name, path in _migration_files(KIT_MIGRATIONS, service_dir / "migrations"):
                sql = path.read_text(encoding="utf-8")
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if name in done:
                    if done[name] != checksum:
                        raise RuntimeError(f"migration {name} was changed after it was applied")
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", name, checksum)
                applied_now.append(name)
                log.info("migration applied", extra={"schema": schema, "migration": name})
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"migrate:{schema}")
    return applied_now
