"""The periodic chain check: walks the whole hash chain from seq 1 to the head, a bounded chunk per
round, then starts again, so a record rewritten anywhere is found within one pass and a round costs
at most `chunk` records whatever the size of the log. The result goes to the chain metrics."""

from __future__ import annotations

import logging

import asyncpg

from services.audit import domain, store
from services.audit.deps import AuditRuntime
from services.audit.metrics import record_chain_broken, record_chain_pass
from services.kit.loops import Backoff, run_forever

log = logging.getLogger(__name__)


class ChainWalker:
    """Where the current pass is; a pass that finds a break reports it and starts over from seq 1."""

    def __init__(self, *, chunk: int) -> None:
        self.chunk = chunk
        self.state = domain.ChainState()
        self.passes = 0  # completed passes, broken or not

    async def step(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            records = await store.feed(conn, after_seq=self.state.head_seq, limit=self.chunk)
        self.state = domain.verify_chain(records, self.state)
        if bad := self.state.first_bad:
            log.error("audit chain broken", extra={"seq": bad.seq, "event_id": str(bad.event_id), "reason": bad.reason})
            record_chain_broken()
        elif len(records) == self.chunk:
            return  # the pass goes on next round
        else:
            record_chain_pass(records=self.state.records)
        self.passes += 1
        self.state = domain.ChainState()


async def check_chain(runtime: AuditRuntime) -> None:
    """Every AUDIT_CHAIN_CHECK_SECONDS, verify the next chunk of the chain."""
    walker = ChainWalker(chunk=runtime.settings.integrity_chunk)
    period = runtime.settings.chain_check_seconds

    async def round_() -> bool:
        await walker.step(runtime.pool)
        return False

    await run_forever("audit-chain-check", round_, interval=period, backoff=Backoff(first=period, max=max(period, 60.0)),
                      service=runtime.name)
