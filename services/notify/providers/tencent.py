"""Tencent Cloud SMS (sms 2021-01-11): SendSms with our message id as SessionContext,
PullSmsSendStatusByPhoneNumber to find a message whose send timed out. TC3-HMAC-SHA256
(services/notify/providers/signing.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from services.notify.providers.classify import Accepted, LookupUnsure, OutcomeUnknown, ProviderError, refused
from services.notify.providers.config import template_values
from services.notify.providers.signing import TC3_CONTENT_TYPE, tc3_authorization
from services.notify.providers.transport import TemplatedProvider, post

NAME = "tencent"
VERSION = "2021-01-11"
SERVICE = "sms"


class TencentSms(TemplatedProvider):
    name = NAME

    async def send(self, *, message_id: UUID, phone: str, text: str, template_code: str = "",
                   params: Mapping[str, object] | None = None) -> str:
        template = self._template(template_code)
        response = await self._call("SendSms", {
            "PhoneNumberSet": [phone], "SmsSdkAppId": self._settings.tencent_sdk_app_id,
            "SignName": self._settings.tencent_sign_name, "TemplateId": template.template,
            "TemplateParamSet": template_values(template, params), "SessionContext": str(message_id)})
        [status] = response.get("SendStatusSet") or [{"Code": "MissingSendStatus"}]
        if status.get("Code") != "Ok":
            raise refused(NAME, str(status.get("Code")), str(status.get("Message", "")))
        return Accepted(str(status["SerialNo"]), provider=NAME)

    async def find(self, *, message_id: UUID, phone: str, since: datetime) -> str | None:
        """The SerialNo if Tencent has reported on the message; None once the settle time has passed
        without a report (Tencent lists only messages it has a status report for)."""
        now = self._clock.now()
        try:
            response = await self._call("PullSmsSendStatusByPhoneNumber", {
                "BeginTime": int(since.timestamp()) - 60, "EndTime": int(now.timestamp()), "Offset": 0, "Limit": 100,
                "PhoneNumber": phone, "SmsSdkAppId": self._settings.tencent_sdk_app_id})
        except (ProviderError, OutcomeUnknown) as exc:
            raise LookupUnsure(str(exc)) from None
        for report in response.get("PullSmsSendStatusSet") or []:
            if report.get("SessionContext") == str(message_id):
                return str(report.get("SerialNo"))
        if (now - since).total_seconds() < self._settings.sms_unknown_settle_seconds:
            raise LookupUnsure("no status report yet")
        return None

    async def _call(self, action: str, payload: dict[str, Any]) -> dict:
        settings = self._settings
        body = json.dumps(payload, ensure_ascii=False).encode()
        host = urlsplit(settings.tencent_endpoint).netloc
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": TC3_CONTENT_TYPE, "Host": host, "X-TC-Action": action, "X-TC-Version": VERSION,
            "X-TC-Region": settings.tencent_region, "X-TC-Timestamp": str(timestamp),
            "Authorization": tc3_authorization(secret_id=settings.tencent_secret_id,
                                               secret_key=settings.secret("tencent_secret_key"), service=SERVICE,
                                               host=host, payload=body, timestamp=timestamp, action=action)}
        status, answer = await post(self._client, NAME, settings.tencent_endpoint.rstrip("/") + "/", content=body,
                                    headers=headers)
        response = answer.get("Response") if isinstance(answer, dict) else None
        if not isinstance(response, dict):
            raise ProviderError(NAME, "BAD_RESPONSE", "technical", f"HTTP {status}")
        if "Error" in response:
            error = response["Error"]
            raise refused(NAME, str(error.get("Code")), str(error.get("Message", "")))
        return response
