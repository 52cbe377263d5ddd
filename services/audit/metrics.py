"""Audit's own metrics: the result of the periodic chain check and of the checkpointer."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge

CHAIN_VALID = Gauge("bianmin_audit_chain_valid", "1 when the last full pass over the hash chain found it intact, "
                    "0 from the moment a pass finds a broken record.")
CHAIN_RECORDS = Gauge("bianmin_audit_chain_verified_records", "Records the last full pass verified.")
CHAIN_VERIFIED_AT = Gauge("bianmin_audit_chain_last_verified_timestamp_seconds",
                          "When the last full pass over the chain ended (Unix time).")
CHECKPOINT_REFUSED = Gauge("bianmin_audit_checkpoint_refused", "1 while the checkpointer refuses to sign because the "
                           "chain no longer extends the last signed checkpoint (tail deleted or rewritten).")


def record_chain_broken() -> None:
    CHAIN_VALID.set(0)


def record_chain_pass(*, records: int) -> None:
    CHAIN_VALID.set(1)
    CHAIN_RECORDS.set(records)
    CHAIN_VERIFIED_AT.set(time.time())


def record_checkpoint_refused(refused: bool) -> None:
    CHECKPOINT_REFUSED.set(1 if refused else 0)


REPLAYS_REFUSED = Counter("bianmin_audit_replays_refused", "Events refused because their event_id was already "
                          "logged with other content (forged or altered replays), each kept in replays_refused.")
GAPS_OPEN = Gauge("bianmin_audit_stream_gaps_open", "Stream versions missing below the highest seen (lost or late "
                  "events), as of the last metrics refresh.")
GAPS_OVERDUE = Gauge("bianmin_audit_stream_gaps_overdue", "Open stream gaps older than AUDIT_GAP_GRACE_SECONDS: "
                     "lost events, which make /api/v1/integrity report the log invalid.")


def record_replay_refused() -> None:
    REPLAYS_REFUSED.inc()


def record_gaps(*, open_: int, overdue: int) -> None:
    GAPS_OPEN.set(open_)
    GAPS_OVERDUE.set(overdue)
