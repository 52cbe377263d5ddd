"""Response bodies of notify's HTTP API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from contracts.events import RecipientKind


class MessageView(BaseModel):
    id: UUID = Field(description="Message id; also the provider's idempotency key.")
    recipient_kind: RecipientKind = Field(examples=["resident"])
    phone: str = Field(description="Masked phone number.", examples=["138****8000"])
    template_code: str = Field(examples=["case_submitted"])
    text: str = Field(examples=["【清水镇便民服务中心】张三您好，您申请的城乡居民养老保险待遇申领已受理，"
                                "办件编号QS-20261123-0001，承诺于2026年12月7日前办结。"])
    status: str = Field(description="queued, sent, delivered (the carrier's receipt) or failed.", examples=["sent"])
    attempts: int = Field(description="Provider calls made so far.", examples=[1])
    created_at: datetime
    sent_at: datetime | None
    # Sending rules (ADR 30): why a queued message waits, and until when; the SMS a merged one went out in.
    waiting_for: str | None = Field(default=None, description="quiet_hours, merge_window or rate_limit while held.",
                                    examples=["quiet_hours"])
    next_attempt_at: datetime | None = Field(default=None, description="When a queued message is tried next.")
    sent_in: UUID | None = Field(default=None, description="The message whose SMS carried this one (itself if alone).")
    segments: int = Field(description="SMS billed for it: 1 up to 70 characters, else one per 67.", examples=[1])
    template_version: str = Field(description="Template file version / template version it was written from.",
                                  examples=["2026.11-1/1"])
    last_error: str | None = Field(description="Why the last attempt failed, or why it could not be written.",
                                   examples=[None])
    # Providers (ADR 28): who took it, and how a failure was classed with the provider's own code.
    provider: str | None = Field(default=None, description="dev, alibaba or tencent: the provider that sent it.",
                                 examples=["alibaba"])
    failure_kind: str | None = Field(default=None, description="temporary, permanent or technical, once an attempt "
                                     "failed.", examples=[None])
    provider_code: str | None = Field(default=None, description="The provider's or carrier's code of that failure.",
                                      examples=["isv.MOBILE_NUMBER_ILLEGAL"])
    delivered_at: datetime | None = Field(default=None, description="When the carrier's receipt said delivered.")
