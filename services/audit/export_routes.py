"""The whole log as JSON lines, streamed from one snapshot a chunk at a time, so a county's
million records never sit in memory (ADR 0031). What the verifier's `export` check reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from services.audit import access_log, store
from services.audit.deps import AuditRuntime
from services.audit.domain import AuditRecord, canonical_json, hashed_fields
from services.kit.access import Grant, permit
from services.kit.errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["audit"])
MEDIA_TYPE = "application/x-ndjson"


def export_line(record: AuditRecord) -> str:
    """seq, event_id, case_id, hashed_text (leaf data; hash = sha256_hex(prev_hash + hashed_text)), hash, prev_hash."""
    return json.dumps({"seq": record.seq, "event_id": str(record.event_id), "case_id": str(record.case_id),
                       "hashed_text": canonical_json(hashed_fields(record)), "hash": record.hash,
                       "prev_hash": record.prev_hash}, ensure_ascii=False) + "\n"


async def _lines(runtime: AuditRuntime) -> AsyncIterator[bytes]:
    async with runtime.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        async for records in store.record_chunks(conn, size=runtime.settings.integrity_chunk):
            yield "".join(export_line(r) for r in records).encode()


@router.get("/export", summary="Every record of the log in seq order, as JSON lines (审计日志全量导出)",
            response_class=StreamingResponse, responses={**error_responses(401, 403),
                                                         200: {"content": {MEDIA_TYPE: {}}}})
async def get_export(request: Request, grant: Annotated[Grant, Depends(permit("audit.export"))]) -> StreamingResponse:
    runtime: AuditRuntime = request.app.state.runtime
    async with runtime.pool.acquire() as conn, conn.transaction():
        head_seq, _ = await store.head(conn)
        await access_log.record_query(conn, viewer=grant.principal, query="export", parameters={}, case_ids=[],
                                      result_count=head_seq, township_id=None, now=runtime.clock.now())
    return StreamingResponse(_lines(runtime), media_type=MEDIA_TYPE,
                             headers={"X-Audit-Head-Seq": str(head_seq)})
