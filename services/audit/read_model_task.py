"""The read model's catch-up loop: at start, and whenever the watermark is behind the log (a database
restored from before the read model, or a rebuild after resetting the watermark to 0), fold the log a
chunk per round until the consumer can fold live again. Idle, a round is one small query."""

from __future__ import annotations

from services.audit import read_model_store
from services.audit.deps import AuditRuntime
from services.kit.loops import Backoff, run_forever

IDLE_SECONDS = 30.0


async def catch_up_read_model(runtime: AuditRuntime) -> None:
    async def round_() -> bool:
        return await read_model_store.catch_up_chunk(runtime.pool, size=runtime.settings.read_model_chunk) > 0

    await run_forever("audit-read-model-catch-up", round_, interval=IDLE_SECONDS,
                      backoff=Backoff(first=1.0, max=60.0), service=runtime.name)
