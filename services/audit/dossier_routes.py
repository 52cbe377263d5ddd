"""GET /cases/{case_id}/dossier.pdf: the printable case dossier, read and recorded like the timeline."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from contracts.errors import DomainError
from services.audit import commands, store
from services.audit.deps import AuditRuntime
from services.audit.dossier import Dossier, RecordHash, SignedHead, render_dossier
from services.audit.timeline import timeline
from services.kit.access import Grant, permit
from services.kit.errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["audit"])
_PDF = {**error_responses(401, 403, 404, 422, 503), 200: {"content": {"application/pdf": {}},
                                                     "description": "The dossier, A4, Simplified Chinese."}}


class DossierUnavailable(DomainError):
    status, code, message = 503, "DOSSIER_UNAVAILABLE", "办件审计档案暂时无法生成（缺少中文字体），请联系系统管理员"


@router.get("/cases/{case_id}/dossier.pdf", response_class=Response, responses=_PDF,
            summary="The case dossier as PDF: facts, timeline, hashes, the signed head (办件审计档案)")
async def get_dossier(case_id: UUID, request: Request,
                      grant: Annotated[Grant, Depends(permit("audit.case_dossier"))]) -> Response:
    rt: AuditRuntime = request.app.state.runtime
    now = rt.clock.now()
    history = await commands.case_history(rt.pool, case_id, grant=grant, query="case_dossier",
                                          parameters={"case_id": case_id}, now=now)
    async with rt.pool.acquire() as conn:
        checkpoint = await store.last_checkpoint(conn)
    head = SignedHead(tree_size=checkpoint.payload.head_seq, root=checkpoint.payload.head_hash,
                      key_id=checkpoint.payload.key_id, signature=checkpoint.payload.signature,
                      number=checkpoint.stream_version, signed_at=checkpoint.occurred_at) if checkpoint else None
    dossier = Dossier(case_id=case_id, township_id=history.records[0].township_id, timeline=timeline(history.records),
                      records=[RecordHash(seq=r.seq, event_id=r.event_id, hash=r.hash, prev_hash=r.prev_hash)
                               for r in history.records], head=head)
    try:
        # Parsing and subsetting the font takes CPU: off the event loop.
        content = await asyncio.to_thread(render_dossier, dossier, font=rt.settings.font_file, printed_at=now)
    except OSError as exc:  # the font went away after start
        raise DossierUnavailable() from exc
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="dossier-{case_id}.pdf"'})
