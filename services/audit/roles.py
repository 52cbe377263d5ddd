"""The PostgreSQL role audit runs as: it may read and append its log and use its outbox and inbox
tables, nothing more; migrations run as the owner. Then a bug or a stolen connection cannot
rewrite history, and the owner's rights are not in the running process at all.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from services.kit.local_secret import create_once

log = logging.getLogger(__name__)

DEVELOPMENT_ROLE = "bianmin_audit_writer"

# What the running service needs on each table of its schema. audit_log: read and append only;
# events: the outbox (append locks it, the relay marks rows published or set aside);
# processed_events and dead_letters: the inbox.
GRANTS: dict[str, str] = {
    "audit_log": "SELECT, INSERT",
    "events": "SELECT, INSERT, UPDATE",
    "event_streams": "SELECT, INSERT, UPDATE",  # each case stream's head: append bumps it (ADR 38)
    "processed_events": "SELECT, INSERT",
    "dead_letters": "SELECT, INSERT, UPDATE",
    "merkle_nodes": "SELECT, INSERT",  # evidence, like audit_log: append-only
    "stream_gaps": "SELECT, INSERT, UPDATE",  # a gap is closed, never deleted
    "replays_refused": "SELECT, INSERT",  # evidence: append-only like audit_log
    # The inspectors' read model (ADR 33): rebuilt from audit_log, so not evidence.
    "audit_read_model_state": "SELECT, UPDATE",
    "audit_cases": "SELECT, INSERT, UPDATE",
    "audit_event_index": "SELECT, INSERT",
    "audit_staff": "SELECT, INSERT, UPDATE",
    "audit_roster_days": "SELECT, INSERT, UPDATE",
    "audit_absences": "SELECT, INSERT",
    "audit_complaints": "SELECT, INSERT, UPDATE",
    "audit_bad_ratings": "SELECT, INSERT, UPDATE",  # the bad-rating ledger (ADR 37)
    # The hall's visits: a read model of the chain, kept as tickets move.
    "hall_visits": "SELECT, INSERT, UPDATE, DELETE",
    # Idempotency-Keys of ledger entries: what was recorded stays recorded.
    "accountability_requests": "SELECT, INSERT",
}
SEQUENCES = ("events_position_seq", "dead_letters_id_seq", "replays_refused_id_seq")


def role_of(dsn: str) -> str:
    user = urlsplit(dsn).username
    if not user:
        raise ValueError("AUDIT_DATABASE_URL must name the role (user) it connects as")
    return unquote(user)


def with_role(dsn: str, role: str, password: str) -> str:
    """`dsn` with its user and password replaced."""
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"))


def development_password(path: Path) -> str:
    """The password in `path`, created on first use (0600), so every local start agrees on it."""
    return create_once(path, lambda: secrets.token_urlsafe(24).encode()).decode().strip()


async def ensure_login_role(owner: asyncpg.Connection, role: str, password: str) -> None:
    """Create the role, or reset its password; two services starting together may race here."""
    exists = await owner.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", role)
    if not exists:
        try:
            await owner.execute(f'CREATE ROLE "{role}" LOGIN')
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            pass
    # A literal, because utility statements take no parameters; the password is URL-safe base64.
    await owner.execute(f"ALTER ROLE \"{role}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD "
                        f"'{password.replace(chr(39), chr(39) * 2)}'")


async def grant_runtime_rights(owner: asyncpg.Connection, schema: str, role: str) -> None:
    """Exactly GRANTS on the service's tables; UPDATE, DELETE, TRUNCATE on audit_log revoked."""
    async with owner.transaction():
        await owner.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        for table, rights in GRANTS.items():
            await owner.execute(f'REVOKE ALL ON "{schema}".{table} FROM "{role}"')
            await owner.execute(f'GRANT {rights} ON "{schema}".{table} TO "{role}"')
        for sequence in SEQUENCES:
            await owner.execute(f'GRANT USAGE ON SEQUENCE "{schema}".{sequence} TO "{role}"')


async def runtime_dsn(owner_pool: asyncpg.Pool, *, schema: str, owner_dsn: str, runtime_url: str | None,
                      password: str) -> str:
    """The DSN audit runs as: AUDIT_DATABASE_URL's role (it must exist), or the development role,
    created here; either way granted exactly what the service needs, as the owner."""
    async with owner_pool.acquire() as owner:
        if runtime_url:
            dsn = runtime_url
        else:
            await ensure_login_role(owner, DEVELOPMENT_ROLE, password)
            dsn = with_role(owner_dsn, DEVELOPMENT_ROLE, password)
        await grant_runtime_rights(owner, schema, role_of(dsn))
    log.info("audit runs as a restricted role", extra={"role": role_of(dsn)})
    return dsn
