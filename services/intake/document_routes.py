"""Intake's printed documents over HTTP: each PDF rebuilt from the case's own intake events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from contracts.errors import DomainError
from contracts.events import ApplicationFields
from services.intake import catalogue_store, documents
from services.intake.deps import runtime_of
from services.intake.document_data import CaseDocuments, fold
from services.intake.domain import CaseNotFound
from services.intake.service_halls import hall_of
from services.kit.access import Grant, permit
from services.kit.errors import error_responses
from services.kit.eventstore import load_stream

router = APIRouter(prefix="/api/v1/cases/{case_id}/documents", tags=["documents"])
_PDF = {200: {"description": "The document, A4 PDF with its Chinese font embedded.",
              "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(401, 403, 404, 422)}


class DocumentNotFound(DomainError):
    status, code, message = 404, "DOCUMENT_NOT_FOUND", "该办件没有这份文书"


class DocumentsUnavailable(DomainError):
    status, code, message = 503, "DOCUMENTS_UNAVAILABLE", "打印字体缺失，暂时无法生成文书，请联系县信息中心"


async def _case_documents(request: Request, case_id: UUID, grant: Grant) -> CaseDocuments:
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as conn:
        events = await load_stream(conn, case_id)
        if not events:
            raise CaseNotFound()
        grant.township(events[0].township_id)
        # The material names as the catalogue stood when the case was last judged, else as it stands now.
        opened = [e.payload for e in events if isinstance(e.payload, ApplicationFields)]
        latest = opened[-1] if opened else None
        item = None
        if latest is not None and latest.catalogue_version:
            item = await catalogue_store.load_item_version(conn, latest.item_code, latest.catalogue_version)
        if item is None and latest is not None:
            item = await catalogue_store.load_item(conn, latest.item_code)
    names = {m.code: m.name for m in item.materials} if item else {}
    return fold(case_id, events[0].township_id, events, names)


async def _pdf(request: Request, docs: CaseDocuments, filename: str, render: Callable[..., bytes], *args: Any,
               **kwargs: Any) -> Response:
    """Renders a document of the case, headed with its centre's address, hours and enquiry line."""
    runtime = runtime_of(request)
    kwargs["hall"] = hall_of(request.app.state.catalogue.file, docs.township_id)
    try:
        # About half a second of CPU (parsing and subsetting the font): off the event loop.
        content = await asyncio.to_thread(render, *args, font=runtime.settings.font_file,
                                          printed_at=runtime.clock.now(), **kwargs)
    except OSError as exc:  # the font went away after start
        raise DocumentsUnavailable() from exc
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'})


CaseId = Annotated[UUID, Path(description="The case.")]


@router.get("/receipt.pdf", response_class=Response, responses=_PDF, summary="受理回执 of an accepted case")
async def get_receipt(case_id: CaseId, request: Request,
                      grant: Annotated[Grant, Depends(permit("intake.print_receipt"))]) -> Response:
    docs = await _case_documents(request, case_id, grant)
    if docs.receipt is None:
        raise DocumentNotFound("该办件尚未受理，没有受理回执")
    return await _pdf(request, docs, f"receipt-{docs.receipt.application.case_no}", documents.render_receipt, docs.receipt)


@router.get("/notice-{notice_no}.pdf", response_class=Response, responses=_PDF,
            summary="一次性告知书 number `notice_no` of a case")
async def get_notice(case_id: CaseId, notice_no: Annotated[int, Path(ge=1, le=2_147_483_647)], request: Request,
                     grant: Annotated[Grant, Depends(permit("intake.print_notice"))]) -> Response:
    docs = await _case_documents(request, case_id, grant)
    notice = docs.notices.get(notice_no)
    if notice is None:
        raise DocumentNotFound(f"该办件没有第{notice_no}号一次性告知书")
    return await _pdf(request, docs, f"notice-{notice.application.case_no}-{notice_no}", documents.render_notice, notice)


@router.get("/rejection.pdf", response_class=Response, responses=_PDF, summary="不予受理通知书 of a refused case")
async def get_rejection(case_id: CaseId, request: Request,
                        grant: Annotated[Grant, Depends(permit("intake.print_rejection"))]) -> Response:
    docs = await _case_documents(request, case_id, grant)
    if docs.rejection is None:
        raise DocumentNotFound("该办件没有不予受理通知书")
    case_no = docs.application.case_no if docs.application else str(case_id)
    return await _pdf(request, docs, f"rejection-{case_no}", documents.render_rejection, docs.rejection, case_no=case_no)


@router.get("/referral.pdf", response_class=Response, responses=_PDF, summary="转介告知单 of a referred matter")
async def get_referral(case_id: CaseId, request: Request,
                       grant: Annotated[Grant, Depends(permit("intake.print_referral"))]) -> Response:
    docs = await _case_documents(request, case_id, grant)
    if docs.referral is None:
        raise DocumentNotFound("该办件没有转介告知单")
    return await _pdf(request, docs, f"referral-{case_id}", documents.render_referral, docs.referral, case_no=str(case_id))
