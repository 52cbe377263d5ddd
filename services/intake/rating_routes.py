"""HTTP endpoints of the rating channels (好差评) and the resident's status page (办件进度查询)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from contracts.events import CaseRated
from services.intake import rating_commands, ratings, second_rating
from services.intake.case_status import (
    PROBLEM_TEXT,
    RESULT_TEXT,
    StatusFacts,
    deadline_text,
    due_text,
    local_date,
    pause_text,
    rating_text,
    status_text,
    summary,
)
from services.intake.deps import runtime_of
from services.intake.rating_links import path_of
from services.intake.rating_schemas import (
    LEVELS,
    CaseStatusView,
    InPersonRatingRecorded,
    OwedMaterialView,
    RatingBody,
    RatingLinkIssued,
    RatingLinkView,
    RatingRecorded,
    RatingShownView,
)
from services.intake.settings import IntakeSettings
from services.kit.access import Grant, grant, permit, public
from services.kit.auth import CurrentPrincipal
from services.kit.errors import error_responses
from services.kit.fields import CODE_PATTERN, MobilePhone
from services.kit.rate_limit import RateLimiter, too_many_requests

router = APIRouter(prefix="/api/v1", tags=["ratings"])
THANKS = "感谢您的评价"
_PHONE = TypeAdapter(MobilePhone)
CaseNo = Annotated[str, Path(min_length=1, max_length=32, pattern=CODE_PATTERN, description="办件编号",
                             examples=["QS-20261123-0001"])]
Token = Annotated[str, Path(min_length=1, max_length=64, description="The token of the SMS rating link.")]



def _links(request: Request) -> rating_commands.LinkPolicy:
    return rating_commands.link_policy(runtime_of(request).settings)


def rater(principal: CurrentPrincipal) -> Grant:
    """The rating pad or a village agent; the rated side gets its own refusal, not a bare ROLE_FORBIDDEN."""
    if principal.role in ratings.RATED_ROLES:
        raise ratings.StaffCannotRate()
    return grant(principal, "intake.rate_case")


rater.access_action = "intake.rate_case"  # type: ignore[attr-defined]  # for the guard test over the routes


def rater_again(principal: CurrentPrincipal) -> Grant:
    """As `rater`, for the second rating (整改后再评价) given in person."""
    if principal.role in ratings.RATED_ROLES:
        raise ratings.StaffCannotRate()
    return grant(principal, "intake.rate_case_again")


rater_again.access_action = "intake.rate_case_again"  # type: ignore[attr-defined]


def applicant_phone(x_applicant_phone: Annotated[str, Header(
        max_length=25, description="The applicant's mobile number as given at the window; a header, so it stays "
        "out of access logs.", examples=["13800138000"])]) -> str:
    """The number in E.164, normalised as at the window."""
    try:
        return _PHONE.validate_python(x_applicant_phone)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("header", "X-Applicant-Phone")} for e in exc.errors()]) from None


@dataclass(frozen=True)
class StatusLimits:
    by_address: RateLimiter
    by_case: RateLimiter

    @classmethod
    def of(cls, settings: IntakeSettings) -> StatusLimits:
        window = settings.status_limit_window_seconds
        return cls(by_address=RateLimiter(capacity=settings.status_limit_per_address, window=window),
                   by_case=RateLimiter(capacity=settings.status_limit_per_case, window=window))

    def check(self, address: str, case_no: str) -> None:
        # Per address against trying many cases; per case number against trying many phone numbers.
        wait = self.by_address.take(address) or self.by_case.take(case_no.upper())
        if wait:
            raise too_many_requests(wait, "STATUS_RATE_LIMITED", "查询过于频繁，请稍后再试")


def _limit(request: Request, case_no: str) -> None:
    state = request.app.state
    if not hasattr(state, "status_limits"):
        state.status_limits = StatusLimits.of(runtime_of(request).settings)
    state.status_limits.check(request.client.host if request.client else "unknown", case_no)


def _recorded(event: CaseRated) -> RatingRecorded:
    p = event.payload
    assert p.channel is not None
    return RatingRecorded(score=p.score, bad_rating=p.bad_rating, channel=p.channel, message=THANKS)


@router.post("/cases/{case_id}/rating", status_code=201, response_model=InPersonRatingRecorded,
             summary="Rating given in person (好差评): the window pad, or a village agent as the resident says",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_in_person_rating(case_id: UUID, body: RatingBody, request: Request,
                                rights: Annotated[Grant, Depends(rater)]) -> InPersonRatingRecorded:
    rt = runtime_of(request)
    event = await rating_commands.rate_in_person(rt.pool, rt.clock, case_id=case_id, rating=body.rating(),
                                                 role=rights.principal.role, may_see=rights.township)
    return InPersonRatingRecorded(case_id=case_id, **_recorded(event).model_dump())


@router.post("/cases/{case_id}/rating-link", status_code=201, response_model=RatingLinkIssued,
             summary="Issue a single-use SMS rating link for a completed case; an earlier one stops working",
             responses=error_responses(401, 403, 404, 409, 422))
async def post_rating_link(case_id: UUID, request: Request,
                           rights: Annotated[Grant, Depends(permit("intake.issue_rating_link"))]) -> RatingLinkIssued:
    rt = runtime_of(request)
    token, claims = await rating_commands.issue_link(rt.pool, rt.clock, _links(request), case_id=case_id,
                                                     issued_by=rights.principal.sub, may_see=rights.township)
    return RatingLinkIssued(case_id=case_id, token=token, path=path_of(token), expires_at=claims.expires_at)


@router.get("/rate/{token}", response_model=RatingLinkView, summary="What an SMS rating link rates (no login)",
            responses=error_responses(404, 409, 410, 422))
async def get_rating_link(token: Token, request: Request,
                          _: Annotated[None, Depends(public("intake.read_rating_link"))]) -> RatingLinkView:
    rt = runtime_of(request)
    facts = await rating_commands.link_facts(rt.pool, rt.clock, _links(request), token=token)
    if facts["rating_round"] == second_rating.SECOND_ROUND:
        if facts["rated_again"]:
            raise second_rating.AlreadyRatedAgain()
    elif facts["rated"]:
        raise ratings.CaseAlreadyRated()
    return RatingLinkView(item_name=facts["item_name"], centre_name=facts["centre_name"],
                          completed_on=local_date(facts["completed_at"]), expires_at=facts["expires_at"])


@router.post("/rate/{token}", status_code=201, response_model=RatingRecorded,
             summary="Rate through an SMS rating link (no login; once)",
             responses=error_responses(404, 409, 410, body=True))
async def post_rating_by_link(token: Token, body: RatingBody, request: Request,
                              _: Annotated[None, Depends(public("intake.rate_by_link"))]) -> RatingRecorded:
    rt = runtime_of(request)
    event = await rating_commands.rate_by_link(rt.pool, rt.clock, _links(request), token=token, rating=body.rating())
    return _recorded(event)


@router.get("/cases/{case_no}/status", response_model=CaseStatusView,
            summary="Where a case stands, for its applicant (no login; the phone number in X-Applicant-Phone)",
            responses=error_responses(404, 422))
async def get_case_status(case_no: CaseNo, request: Request, phone: Annotated[str, Depends(applicant_phone)],
                          _: Annotated[None, Depends(public("intake.case_status"))]) -> CaseStatusView:
    _limit(request, case_no)
    facts = await rating_commands.case_status(runtime_of(request).pool, case_no=case_no, phone=phone)
    rateable = ratings.can_rate(ratings.RatedCase(status=facts.status, rated=facts.rated))
    return CaseStatusView(
        case_no=facts.case_no, item_name=facts.item_name, centre_name=facts.centre_name, status=facts.status,
        status_text=status_text(facts.status), summary=summary(facts), department_name=facts.department_name,
        promised_on=local_date(facts.promised_deadline), overdue=facts.overdue,
        deadline_provisional=facts.deadline_provisional, deadline_text=deadline_text(facts),
        clock_paused=pause_text(facts) is not None, pause_text=pause_text(facts),
        result_text=RESULT_TEXT.get(facts.result or ""), completed_on=local_date(facts.completed_at),
        owed_materials=[OwedMaterialView(name=m.name, problem_text=PROBLEM_TEXT.get(m.problem, m.problem), note=m.note,
                                         due_on=local_date(m.due), due_provisional=m.due_provisional,
                                         due_text=due_text(m)) for m in facts.owed],
        can_rate=rateable, rating_text=rating_text(status=facts.status, rated=facts.rated,
                                                   asked_again=facts.rate_again_asked,
                                                   rated_again=facts.rated_again_at is not None),
        ratings=_ratings_shown(facts), can_rate_again=facts.can_rate_again)


def _ratings_shown(facts: StatusFacts) -> list[RatingShownView]:
    given = [(1, facts.rating_score, facts.rated_at), (2, facts.second_rating_score, facts.rated_again_at)]
    return [RatingShownView(rating_round=n, score=score, level=LEVELS[score], rated_on=local_date(at))
            for n, score, at in given if score is not None]


@router.post("/cases/{case_no}/status/rating", status_code=201, response_model=RatingRecorded,
             summary="Rate from the status page (no login; the phone number in X-Applicant-Phone)",
             responses=error_responses(404, 409, body=True))
async def post_rating_by_status(case_no: CaseNo, body: RatingBody, request: Request,
                                phone: Annotated[str, Depends(applicant_phone)],
                                _: Annotated[None, Depends(public("intake.rate_by_status"))]) -> RatingRecorded:
    _limit(request, case_no)
    rt = runtime_of(request)
    event = await rating_commands.rate_by_status(rt.pool, rt.clock, case_no=case_no, phone=phone, rating=body.rating())
    return _recorded(event)


@router.post("/cases/{case_no}/status/rating-again", status_code=201, response_model=RatingRecorded,
             summary="Rate again from the status page after a rectification asked for it (整改后再评价; no login)",
             responses=error_responses(404, 409, body=True))
async def post_rating_again_by_status(case_no: CaseNo, body: RatingBody, request: Request,
                                      phone: Annotated[str, Depends(applicant_phone)],
                                      _: Annotated[None, Depends(public("intake.rate_again_by_status"))]
                                      ) -> RatingRecorded:
    _limit(request, case_no)
    rt = runtime_of(request)
    event = await rating_commands.rate_again_by_status(rt.pool, rt.clock, case_no=case_no, phone=phone,
                                                       rating=body.rating())
    return _recorded(event)


@router.post("/cases/{case_id}/rating-again", status_code=201, response_model=InPersonRatingRecorded,
             summary="Second rating given in person after a rectification asked for it (整改后再评价)",
             responses=error_responses(401, 403, 404, 409, body=True))
async def post_in_person_rating_again(case_id: UUID, body: RatingBody, request: Request,
                                      rights: Annotated[Grant, Depends(rater_again)]) -> InPersonRatingRecorded:
    rt = runtime_of(request)
    event = await rating_commands.rate_again_in_person(rt.pool, rt.clock, case_id=case_id, rating=body.rating(),
                                                       role=rights.principal.role, may_see=rights.township)
    return InPersonRatingRecorded(case_id=case_id, **_recorded(event).model_dump())
