"""One rule for what is an infrastructure fault (wait and retry) and what is a fault of the
message or the code (bounded retries, then dead-letter or set aside).

Classified by SQLSTATE class where PostgreSQL gives one, so a new error code of a known class
(a new kind of shutdown, say) is handled like its siblings without a change here.
"""

from __future__ import annotations

from collections import Counter

import asyncpg
from aiokafka.errors import KafkaError, RecordTooLargeError
from pydantic import ValidationError

# SQLSTATE (class or full code) -> fault class. Class 08: connection; 57P: the server is
# shutting down or restarting; 53: out of resources (too many connections, disk, memory);
# 25006: read-only transaction (a standby, or a database set read-only during maintenance);
# 40: serialization failure or deadlock, which a new transaction resolves; 55000: the database
# does not accept connections now (ALLOW_CONNECTIONS false, during maintenance). Not 57014: a
# statement cancelled by its timeout would time out again.
_SQLSTATE_CLASSES: tuple[tuple[str, str], ...] = (
    ("08", "connection"), ("57P", "shutdown"), ("53", "resources"), ("25006", "read_only"), ("40", "conflict"),
    ("55000", "connection"),
)


def sqlstate_of(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None) if isinstance(exc, asyncpg.PostgresError) else None


def fault_class(exc: BaseException) -> str | None:
    """The name of the transient fault `exc` is, or None when retrying later would not help."""
    if state := sqlstate_of(exc):
        return next((name for prefix, name in _SQLSTATE_CLASSES if state.startswith(prefix)), None)
    if isinstance(exc, asyncpg.InterfaceError):  # connection closed, pool closed, ... (client side)
        return "connection"
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError is the same class since 3.11
        return "timeout"
    if isinstance(exc, OSError):  # refused, reset, unreachable
        return "connection"
    if isinstance(exc, KafkaError) and exc.retriable:
        return "kafka"
    return None


def is_transient(exc: BaseException) -> bool:
    return fault_class(exc) is not None


def describe(exc: BaseException) -> str:
    """A reason fit for logs and dead letters: class names and codes, never the values that failed."""
    if isinstance(exc, ValidationError):  # its str() and repr() quote the input values
        problems = ", ".join(f"{e['type']} at {'.'.join(str(p) for p in e['loc']) or '(root)'}"
                             for e in exc.errors()[:10])
        return f"ValidationError: {problems}"
    state = sqlstate_of(exc)
    return type(exc).__name__ + (f" (SQLSTATE {state})" if state else "")


class FaultCounters(Counter[str]):
    """Transient faults seen, per fault class, for tests and health probes."""

    def record(self, exc: BaseException) -> str:
        name = fault_class(exc) or "permanent"
        self[name] += 1
        return name


# Kafka error codes that refuse one record for what it is, so sending it again cannot succeed:
# CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_RECORD.
_RECORD_REFUSALS = frozenset({2, 10, 18, 87})


def is_record_refused(exc: BaseException) -> bool:
    """True when Kafka (or the client, before sending) refuses this one record for good.

    Deliberately narrow: an authorisation or unknown-topic error refuses every record alike and
    must stop the relay, not set the whole outbox aside.
    """
    if isinstance(exc, RecordTooLargeError | UnicodeError):
        return True
    return isinstance(exc, KafkaError) and getattr(exc, "errno", None) in _RECORD_REFUSALS
