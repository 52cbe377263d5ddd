"""Re-driving dead letters once their cause is fixed: each kept message goes through the handler
subscribed to its topic, with the inbox's de-duplication, in one transaction with its mark."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from contracts.events import parse_event
from services.kit.faults import describe
from services.kit.inbox import Inbox, apply_in

log = logging.getLogger(__name__)


@dataclass
class RedriveResult:
    redriven: int = 0  # applied now, or found applied already
    failed: int = 0  # still failing: left for the next redrive, with the reason
    unavailable: int = 0  # no message kept (recorded before messages were) or no handler for its topic


async def redrive(inbox: Inbox) -> RedriveResult:
    """Every dead letter of the inbox's group not yet re-driven, oldest first; safe to run twice
    or on two instances at once (rows are locked and skipped, events de-duplicated)."""
    assert inbox.pool is not None
    result = RedriveResult()
    after = 0
    while (outcome := await _redrive_next(inbox, after=after)) is not None:
        after, status = outcome
        setattr(result, status, getattr(result, status) + 1)
    log.info("dead letters re-driven", extra={"group": inbox.group_id, **vars(result)})
    return result


async def _redrive_next(inbox: Inbox, *, after: int) -> tuple[int, str] | None:
    assert inbox.pool is not None
    async with inbox.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT id, topic, message_key, message_value FROM dead_letters WHERE consumer_group = $1 AND redriven_at IS NULL"
            " AND id > $2 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", inbox.group_id, after)
        if row is None:
            return None
        record_route = inbox.record_routes.get(row["topic"])
        if row["message_value"] is None and record_route is None:
            return row["id"], "unavailable"
        try:
            async with conn.transaction():  # a savepoint: a failing handler leaves the mark below possible
                if record_route is not None:
                    await record_route.apply(conn, record_route.parse(row["message_key"], row["message_value"]))
                else:
                    event = parse_event(row["message_value"])
                    apply = inbox.handler_for(row["topic"], event.event_type)
                    if apply is None:
                        return row["id"], "unavailable"
                    await apply_in(conn, row["topic"], event, apply)
        except Exception as exc:  # noqa: BLE001 - recorded, the row stays pending
            await conn.execute("UPDATE dead_letters SET redrive_error = $2 WHERE id = $1", row["id"], describe(exc))
            return row["id"], "failed"
        await conn.execute("UPDATE dead_letters SET redriven_at = now(), redrive_error = NULL WHERE id = $1", row["id"])
        return row["id"], "redriven"


async def forget_value(conn: asyncpg.Connection, *, topic: str, key: bytes) -> None:
    """Erase the kept value of a topic's dead letters under one key (personal data being erased);
    the row, its reason and its offsets stay as the record that something failed."""
    await conn.execute("UPDATE dead_letters SET message_value = NULL WHERE topic = $1 AND message_key = $2", topic, key)
