"""Operators' endpoints every service has: re-driving its dead letters after a fix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.kit import deadletters
from services.kit.access import Grant, permit
from services.kit.errors import error_responses

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class RedriveReport(BaseModel):
    redriven: int = Field(title="已重新处理", description="Applied now, or found applied already.")
    failed: int = Field(title="仍然失败", description="Still failing; kept for the next redrive with the reason.")
    unavailable: int = Field(title="无法重新处理",
                             description="No message kept (dead-lettered before messages were) or no handler.")


@router.post("/dead-letters/redrive", response_model=RedriveReport,
             summary="Re-apply this service's dead letters through their handlers (重新处理死信)",
             responses=error_responses(401, 403))
async def post_redrive(request: Request,
                       _: Annotated[Grant, Depends(permit("admin.redrive_dead_letters"))]) -> RedriveReport:
    result = await deadletters.redrive(request.app.state.runtime.inbox)
    return RedriveReport(**vars(result))
