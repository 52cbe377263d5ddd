"""GET /cases/{case_id}/dossier.pdf: the printable case dossier, read and recorded like the timeline."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Request, Response

from contracts.errors import DomainError
from services.audit import commands, merkle_store, store
from services.audit.deps import AuditRuntime
from services.audit.domain import AuditRecord
from services.audit.dossier import Dossier, InclusionProof, RecordHash, SignedHead, render_dossier
from services.audit.proof_routes import served_proof
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
    async with rt.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        head, proofs = await _signed_head_and_proofs(conn, history.records)
    dossier = Dossier(case_id=case_id, township_id=history.records[0].township_id, timeline=timeline(history.records),
                      records=[RecordHash(seq=r.seq, event_id=r.event_id, hash=r.hash, prev_hash=r.prev_hash)
                               for r in history.records], head=head, proofs=proofs)
    try:
        # Parsing and subsetting the font takes CPU: off the event loop.
        content = await asyncio.to_thread(render_dossier, dossier, font=rt.settings.font_file, printed_at=now)
    except OSError as exc:  # the font went away after start
        raise DossierUnavailable() from exc
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="dossier-{case_id}.pdf"'})


async def _signed_head_and_proofs(conn: asyncpg.Connection, records: list[AuditRecord]
                                  ) -> tuple[SignedHead | None, dict[int, InclusionProof]]:
    """The newest signed head and, when it is a Merkle tree head, each record's inclusion proof against it
    (records logged after it have none: the PDF says so); a head from before the tree: the chain's head."""
    checkpoint = await store.last_checkpoint(conn)
    if checkpoint is None:
        return None, {}
    p = checkpoint.payload
    if p.tree_size is None or p.root_hash is None:
        return SignedHead(tree_size=p.head_seq, root=p.head_hash, key_id=p.key_id, signature=p.signature,
                          number=checkpoint.stream_version, signed_at=checkpoint.occurred_at), {}
    head = SignedHead(tree_size=p.tree_size, root=p.root_hash, key_id=p.key_id, signature=p.signature,
                      number=checkpoint.stream_version, signed_at=checkpoint.occurred_at, kind="merkle")
    proofs: dict[int, InclusionProof] = {}
    for record in records:
        if record.seq <= p.tree_size:
            path = await served_proof(merkle_store.inclusion_proof(conn, record.seq - 1, p.tree_size))
            proofs[record.seq] = InclusionProof(seq=record.seq, leaf_index=record.seq - 1,
                                                leaf_hash=merkle_store.record_leaf(record).hex(),
                                                audit_path=[h.hex() for h in path])
    return head, proofs
