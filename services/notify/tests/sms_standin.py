"""A local stand-in for Alibaba Cloud SMS and Tencent Cloud SMS: checks every request's signature as the
provider would, answers in the providers' documented shapes, and can be told to refuse a number, to be
down, or to take a message and answer too late. It also writes the receipts each provider would push."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.notify.providers.signing import alibaba_signature, tc3_authorization

ALIBABA_KEY_ID, ALIBABA_SECRET = "LTAI-standin", "standin-alibaba-secret"
TENCENT_SECRET_ID, TENCENT_SECRET_KEY = "AKID-standin", "standin-tencent-secret"


@dataclass
class Taken:
    provider: str
    our_id: str  # OutId or SessionContext
    provider_id: str  # BizId or SerialNo
    phone: str
    template: str
    params: Any


@dataclass
class SmsStandIn:
    taken: list[Taken] = field(default_factory=list)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (provider, action)
    refusals: dict[str, str] = field(default_factory=dict)  # phone (as the provider sees it) -> error code
    down: set[str] = field(default_factory=set)  # providers answering 503
    slow: dict[str, float] = field(default_factory=dict)  # phone -> seconds to wait after taking the message
    bad_signatures: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()
        app.post("/alibaba/")(self._alibaba)
        app.post("/tencent/")(self._tencent)
        return app

    def sent_to(self, provider: str, our_id: uuid.UUID) -> list[Taken]:
        return [t for t in self.taken if t.provider == provider and t.our_id == str(our_id)]

    async def _alibaba(self, request: Request) -> JSONResponse:
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != ALIBABA_KEY_ID or signature != alibaba_signature("POST", params, ALIBABA_SECRET):
            self.bad_signatures += 1
            return JSONResponse({"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched.",
                                 "RequestId": str(uuid.uuid4())}, status_code=400)
        action = params.get("Action", "")
        self.calls["alibaba", action] += 1
        if "alibaba" in self.down:
            return JSONResponse({"Code": "ServiceUnavailable"}, status_code=503)
        if action == "QuerySendDetails":
            found = [{"OutId": t.our_id, "PhoneNum": t.phone, "SendStatus": 1, "TemplateCode": t.template}
                     for t in self.taken if t.provider == "alibaba" and t.phone == params["PhoneNumber"]]
            return JSONResponse({"Code": "OK", "Message": "OK", "TotalCount": len(found),
                                 "SmsSendDetailDTOs": {"SmsSendDetailDTO": found}, "RequestId": str(uuid.uuid4())})
        phone = params["PhoneNumbers"]
        if phone in self.refusals:
            return JSONResponse({"Code": self.refusals[phone], "Message": "refused", "RequestId": str(uuid.uuid4())})
        biz_id = f"{uuid.uuid4().int % 10**18}^0"
        self.taken.append(Taken("alibaba", params.get("OutId", ""), biz_id, phone, params["TemplateCode"],
                                json.loads(params["TemplateParam"])))
        await asyncio.sleep(self.slow.get(phone, 0))
        return JSONResponse({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4())})

    async def _tencent(self, request: Request) -> JSONResponse:
        body = await request.body()
        action, host = request.headers.get("x-tc-action", ""), request.headers.get("host", "")
        expected = tc3_authorization(secret_id=TENCENT_SECRET_ID, secret_key=TENCENT_SECRET_KEY, service="sms",
                                     host=host, payload=body, timestamp=int(request.headers.get("x-tc-timestamp", 0)),
                                     action=action)
        if request.headers.get("authorization") != expected:
            self.bad_signatures += 1
            return _tencent_error("AuthFailure.SignatureFailure")
        self.calls["tencent", action] += 1
        if "tencent" in self.down:
            return JSONResponse({"message": "service unavailable"}, status_code=503)
        payload = json.loads(body)
        if action == "PullSmsSendStatusByPhoneNumber":
            reports = [{"SerialNo": t.provider_id, "PhoneNumber": t.phone, "SessionContext": t.our_id,
                        "ReportStatus": "SUCCESS", "Description": "用户短信送达成功"}
                       for t in self.taken if t.provider == "tencent" and t.phone == payload["PhoneNumber"]]
            return JSONResponse({"Response": {"PullSmsSendStatusSet": reports, "RequestId": str(uuid.uuid4())}})
        [phone] = payload["PhoneNumberSet"]
        if phone in self.refusals:
            status = {"Code": self.refusals[phone], "Message": "refused", "PhoneNumber": phone, "SerialNo": ""}
        else:
            serial = f"2433:{uuid.uuid4().int % 10**20}"
            self.taken.append(Taken("tencent", payload.get("SessionContext", ""), serial, phone,
                                    payload["TemplateId"], payload["TemplateParamSet"]))
            status = {"Code": "Ok", "Message": "send success", "PhoneNumber": phone, "SerialNo": serial, "Fee": 1,
                      "SessionContext": payload.get("SessionContext", ""), "IsoCode": "CN"}
        await asyncio.sleep(self.slow.get(phone, 0))
        return JSONResponse({"Response": {"SendStatusSet": [status], "RequestId": str(uuid.uuid4())}})


def _tencent_error(code: str) -> JSONResponse:
    return JSONResponse({"Response": {"Error": {"Code": code, "Message": code}, "RequestId": str(uuid.uuid4())}})


def alibaba_receipt(taken: Taken, *, delivered: bool = True, code: str = "DELIVERED") -> dict[str, Any]:
    """One report of Alibaba's SmsReport push."""
    return {"phone_number": taken.phone, "send_time": "2026-11-24 10:00:00", "report_time": "2026-11-24 10:00:05",
            "success": delivered, "err_code": code, "err_msg": "用户接收成功" if delivered else "失败",
            "sms_size": "1", "biz_id": taken.provider_id, "out_id": taken.our_id}


def tencent_receipt(taken: Taken, *, delivered: bool = True, code: str = "DELIVRD") -> dict[str, Any]:
    """One report of Tencent's status callback."""
    return {"user_receive_time": "2026-11-24 10:00:05", "nationcode": "86", "mobile": taken.phone[3:],
            "report_status": "SUCCESS" if delivered else "FAIL", "errmsg": code, "description": "用户短信送达成功",
            "sid": taken.provider_id, "ext": {"SessionContext": taken.our_id}}


@contextlib.asynccontextmanager
async def serving(standin: SmsStandIn) -> AsyncIterator[str]:
    """Runs the stand-in on a free local port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(standin.app(), host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
