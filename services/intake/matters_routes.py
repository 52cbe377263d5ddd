"""HTTP endpoints for consultations, complaints and referrals: parse, authorise, call a use case, answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from contracts.envelope import Actor
from contracts.personal_data import complainant_name_for
from contracts.workdays import SHANGHAI
from services.intake import domain, matters, matters_commands, store
from services.intake import matters_store as mstore
from services.intake.deps import runtime_of
from services.intake.matters_schemas import (
    ComplaintRegisteredResponse,
    ComplaintView,
    ConsultationLoggedResponse,
    ConsultationReport,
    LogConsultationRequest,
    ReferMatterRequest,
    ReferralResponse,
    RegisterComplaintRequest,
)
from services.intake.schemas import EraseContactRequest, EraseContactResponse
from services.kit.access import Grant, permit
from services.kit.auth import Principal
from services.kit.errors import error_responses
from services.kit.fields import Code

router = APIRouter(prefix="/api/v1", tags=["matters"])



def _actor(principal: Principal) -> Actor:
    return Actor(kind=principal.role, id=principal.sub)


@router.post("/consultations", status_code=201, response_model=ConsultationLoggedResponse,
             summary="Log a question answered (咨询登记)", responses=error_responses(401, 403, 404, body=True))
async def post_consultation(body: LogConsultationRequest, request: Request,
                            grant: Annotated[Grant, Depends(permit("intake.log_consultation"))]) -> ConsultationLoggedResponse:
    grant.township(body.township_id)
    cmd = matters.LogConsultation(township_id=body.township_id, question=body.question, answer=body.answer,
                                  item_code=body.item_code, department_code=body.department_code, channel=body.channel,
                                  staff_id=grant.principal.sub)
    rt = runtime_of(request)
    event = await matters_commands.log_consultation(rt.pool, rt.clock, cmd=cmd, actor=_actor(grant.principal))
    return ConsultationLoggedResponse(consultation_id=event.case_id, department_code=event.payload.department_code,
                                      logged_at=event.occurred_at)


@router.get("/consultations", response_model=ConsultationReport,
            summary="A township's consultations: counts per day and department, and the latest",
            responses=error_responses(401, 403, 404, 422))
async def get_consultations(
        request: Request, grant: Annotated[Grant, Depends(permit("intake.report_consultations"))],
        township_id: Annotated[Code | None, Query(description="Needed by county-wide roles.")] = None,
        from_day: Annotated[date | None, Query(alias="from", description="First local day; default: `to`.")] = None,
        to_day: Annotated[date | None, Query(alias="to", description="Last local day; default: today.")] = None,
) -> ConsultationReport:
    township = grant.listing_township(township_id)
    rt = runtime_of(request)
    start, end = matters.report_period(from_day, to_day, today=rt.clock.now().astimezone(SHANGHAI).date())
    async with rt.pool.acquire() as conn:
        if await store.township_prefix(conn, township) is None:
            raise domain.UnknownTownship()
        counts = await mstore.consultation_counts(conn, township_id=township, start=start, end=end)
        recent = await mstore.recent_consultations(conn, township_id=township, start=start, end=end)
    return ConsultationReport(township_id=township, from_day=start, to_day=end, total=sum(c["count"] for c in counts),
                              counts=counts, recent=recent)  # type: ignore[arg-type]  # rows validate as models


@router.post("/complaints", status_code=201, response_model=ComplaintRegisteredResponse,
             summary="Register a complaint or report (投诉/举报登记)", responses=error_responses(401, 403, 404, body=True))
async def post_complaint(body: RegisterComplaintRequest, request: Request,
                         grant: Annotated[Grant, Depends(permit("intake.register_complaint"))]) -> ComplaintRegisteredResponse:
    grant.township(body.township_id)
    cmd = matters.RegisterComplaint(
        township_id=body.township_id, kind=body.kind, subject=body.subject, content=body.content,
        department_code=body.department_code, about_staff_id=body.about_staff_id, about_case_id=body.about_case_id,
        anonymous=body.anonymous, complainant_name=body.complainant_name, complainant_phone=body.complainant_phone,
        staff_id=grant.principal.sub)
    rt = runtime_of(request)
    event = await matters_commands.register_complaint(rt.pool, rt.clock, cmd=cmd, actor=_actor(grant.principal),
                                                      answer_days=rt.settings.complaint_answer_days)
    return ComplaintRegisteredResponse(complaint_id=event.case_id, complaint_no=event.payload.complaint_no,
                                       answer_due=event.payload.answer_due)


@router.get("/complaints/{complaint_id}", response_model=ComplaintView, summary="A complaint and whether it is answered",
            responses=error_responses(401, 403, 404, 422))
async def get_complaint(complaint_id: UUID, request: Request,
                        grant: Annotated[Grant, Depends(permit("intake.read_complaint"))]) -> ComplaintView:
    rt = runtime_of(request)
    async with rt.pool.acquire() as conn:
        row = await mstore.get_complaint(conn, complaint_id)
    if row is None:
        raise matters.ComplaintNotFound()
    grant.township(row["township_id"])
    late = matters.complaint_overdue(status=row["status"], on_time=row["on_time"], answer_due=row["answer_due"],
                                     now=rt.clock.now())
    row["complainant_name"] = complainant_name_for(grant.principal.sub, name=row["complainant_name"],
                                                   about_staff_id=row["about_staff_id"])
    return ComplaintView(**{k: row[k] for k in ComplaintView.model_fields if k != "overdue"}, overdue=late)


@router.post("/referrals", status_code=201, response_model=ReferralResponse,
             summary="Refer a matter the township does not handle (转介) and tell the resident where to go",
             responses=error_responses(401, 403, 404, body=True))
async def post_referral(body: ReferMatterRequest, request: Request,
                        grant: Annotated[Grant, Depends(permit("intake.refer_matter"))]) -> ReferralResponse:
    grant.township(body.township_id)
    cmd = matters.ReferMatter(township_id=body.township_id, matter=body.matter, item_code=body.item_code,
                              referred_to=body.referred_to, address=body.address, office_hours=body.office_hours,
                              note=body.note, staff_id=grant.principal.sub)
    rt = runtime_of(request)
    event, item = await matters_commands.refer_matter(rt.pool, rt.clock, cmd=cmd, actor=_actor(grant.principal))
    p = event.payload
    return ReferralResponse(referral_id=event.case_id, referred_to=p.referred_to, address=p.address,
                            office_hours=p.office_hours, note=p.note, item_not_offered_here=item is not None,
                            guidance=matters.referral_guidance(p, item=item))


@router.post("/complaints/{complaint_id}/contact-erasure", response_model=EraseContactResponse,
             summary="Erase the complainant's phone number (个人信息删除); the complaint's history stays whole",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_complainant_contact_erasure(
        complaint_id: UUID, body: EraseContactRequest, request: Request,
        grant: Annotated[Grant, Depends(permit("intake.erase_complainant_contact"))]) -> EraseContactResponse:
    rt = runtime_of(request)
    event = await matters_commands.erase_complainant_contact(
        rt.pool, rt.clock, complaint_id=complaint_id, reason=body.reason, actor=_actor(grant.principal),
        may_see=grant.township)
    return EraseContactResponse(case_id=complaint_id, erased_at=event.occurred_at)
