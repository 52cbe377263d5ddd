"""The providers' documented request signing, without their SDKs (which cannot be pointed at a local stand-in).

Alibaba Cloud RPC, signature version 1.0 (HMAC-SHA1): the sorted, RFC 3986-encoded parameters, joined and
encoded once more behind the method and "/", signed with the AccessKey secret plus "&".
Tencent Cloud API 3.0, TC3-HMAC-SHA256: a canonical request (method, path, query, signed headers, body
hash) hashed into a string to sign, signed with a key derived from the secret, the UTC date and the service.
Both are checked byte for byte against the providers' published examples (tests/test_provider_signing.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

TC3 = "TC3-HMAC-SHA256"
TC3_CONTENT_TYPE = "application/json; charset=utf-8"


def percent_encode(value: str) -> str:
    """RFC 3986 as Alibaba Cloud wants it: space %20, '*' %2A, '~' kept (what quote() does with safe='~')."""
    return quote(value, safe="~")


def alibaba_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def alibaba_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """The `Signature` parameter of an RPC request whose other parameters are `params`."""
    digest = hmac.new(f"{secret}&".encode(), alibaba_string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def tc3_canonical_request(*, host: str, payload: bytes, action: str | None = None) -> str:
    """POST / with a JSON body; `action` also signs the x-tc-action header (the SDKs do, the example does not)."""
    headers = {"content-type": TC3_CONTENT_TYPE, "host": host}
    if action is not None:
        headers["x-tc-action"] = action.lower()
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in headers.items())
    return "\n".join(["POST", "/", "", canonical_headers, ";".join(headers), hashlib.sha256(payload).hexdigest()])


def _hmac256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(*, secret_id: str, secret_key: str, service: str, host: str, payload: bytes, timestamp: int,
                      action: str | None = None) -> str:
    """The `Authorization` header of a TC3-HMAC-SHA256 request made at `timestamp` (Unix seconds)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    canonical = tc3_canonical_request(host=host, payload=payload, action=action)
    string_to_sign = f"{TC3}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    signed = "content-type;host" + (";x-tc-action" if action is not None else "")
    return f"{TC3} Credential={secret_id}/{scope}, SignedHeaders={signed}, Signature={signature}"
