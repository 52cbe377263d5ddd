"""Alibaba Cloud SMS (dysmsapi 2017-05-25): SendSms with our message id as OutId, QuerySendDetails to find
a message whose send timed out. RPC signature 1.0 (services/notify/providers/signing.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import UUID

from contracts.workdays import SHANGHAI
from services.notify.providers.classify import Accepted, LookupUnsure, OutcomeUnknown, ProviderError, refused
from services.notify.providers.config import template_values
from services.notify.providers.signing import alibaba_signature
from services.notify.providers.transport import TemplatedProvider, post

NAME = "alibaba"
VERSION = "2017-05-25"


def national(phone: str) -> str:
    """Alibaba takes mainland numbers without +86."""
    return phone.removeprefix("+86")


class AlibabaSms(TemplatedProvider):
    name = NAME

    async def send(self, *, message_id: UUID, phone: str, text: str, template_code: str = "",
                   params: Mapping[str, object] | None = None) -> str:
        template = self._template(template_code)
        values = dict(zip(template.params, template_values(template, params), strict=True))
        body = await self._call({
            "Action": "SendSms", "PhoneNumbers": national(phone), "SignName": self._settings.alibaba_sign_name,
            "TemplateCode": template.template, "TemplateParam": json.dumps(values, ensure_ascii=False),
            "OutId": str(message_id)})
        if body.get("Code") != "OK":
            raise refused(NAME, str(body.get("Code")), str(body.get("Message", "")))
        return Accepted(str(body["BizId"]), provider=NAME)

    async def find(self, *, message_id: UUID, phone: str, since: datetime) -> str | None:
        """The id of the message if Alibaba has it (whatever its state), None if it surely has not.

        QuerySendDetails lists a number's messages of one day, each with its OutId, from the moment
        Alibaba takes them; the attempt's day and today are both asked (a send just before midnight)."""
        days = sorted({since.astimezone(SHANGHAI).strftime("%Y%m%d"), self._clock.now().astimezone(SHANGHAI).strftime("%Y%m%d")})
        for day in days:
            try:
                body = await self._call({"Action": "QuerySendDetails", "PhoneNumber": national(phone),
                                         "SendDate": day, "PageSize": "50", "CurrentPage": "1"})
            except (ProviderError, OutcomeUnknown) as exc:
                raise LookupUnsure(str(exc)) from None
            if body.get("Code") != "OK":
                raise LookupUnsure(f"QuerySendDetails {body.get('Code')}")
            details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            if any(d.get("OutId") == str(message_id) for d in details):
                return f"out-{message_id}"  # the query shows no BizId; receipts also carry our OutId
        return None

    async def _call(self, params: dict[str, str]) -> dict:
        settings = self._settings
        signed = {**params, "Version": VERSION, "Format": "JSON", "RegionId": settings.alibaba_region,
                  "AccessKeyId": settings.alibaba_access_key_id, "SignatureMethod": "HMAC-SHA1",
                  "SignatureVersion": "1.0", "SignatureNonce": str(uuid.uuid4()),
                  "Timestamp": self._clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        signed["Signature"] = alibaba_signature("POST", signed, settings.secret("alibaba_access_key_secret"))
        status, body = await post(self._client, NAME, settings.alibaba_endpoint.rstrip("/") + "/", data=signed)
        if not isinstance(body, dict):
            raise ProviderError(NAME, "BAD_RESPONSE", "technical", f"HTTP {status}")
        if status >= 400:  # signature, credentials, throttling: the code says which
            raise refused(NAME, str(body.get("Code")), str(body.get("Message", "")))
        return body
