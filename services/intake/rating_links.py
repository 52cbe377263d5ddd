"""Rating links sent by SMS (短信评价链接): signed, expiring, single-use tokens that need no login.

A token is base64url(link id 16 bytes | expiry 4 bytes | HMAC-SHA256 over both, first 16 bytes):
48 characters, short enough for an SMS. Intake stores only its SHA-256, so the database alone
gives no usable link; with the secret the token can be made again from the row (link id, expiry),
which is how it can be handed to the SMS sender later without ever being stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from contracts.errors import DomainError

_DOMAIN = b"bianmin-rating-link-v1"  # the MAC says what it is for: no other token of ours verifies as one
_ID, _EXPIRY, _MAC = 16, 4, 16
TOKEN_LENGTH = 48  # characters of base64url for 36 bytes
_ALPHABET = re.compile(r"[A-Za-z0-9_-]{48}", re.ASCII)
PATH_PREFIX = "/api/v1/rate/"


class LinkInvalid(DomainError):
    status, code, message = 404, "RATING_LINK_INVALID", "评价链接无效，请核对短信中的链接"


class LinkExpired(DomainError):
    status, code, message = 410, "RATING_LINK_EXPIRED", "评价链接已过期，可通过办件查询页评价"


class LinkUsed(DomainError):
    status, code, message = 410, "RATING_LINK_USED", "评价链接已使用，每个链接只能评价一次"


@dataclass(frozen=True)
class LinkClaims:
    link_id: UUID
    expires_at: datetime


def new_claims(now: datetime, ttl: timedelta) -> LinkClaims:
    """A fresh link's claims; its expiry in whole seconds, as the token carries it."""
    return LinkClaims(link_id=uuid4(), expires_at=(now + ttl).replace(microsecond=0))


def _mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + body, hashlib.sha256).digest()[:_MAC]


def make_token(secret: bytes, claims: LinkClaims) -> str:
    body = claims.link_id.bytes + int(claims.expires_at.timestamp()).to_bytes(_EXPIRY, "big")
    return base64.urlsafe_b64encode(body + _mac(secret, body)).decode().rstrip("=")


def token_hash(token: str) -> str:
    """What intake stores of a token and looks it up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def read_token(secret: bytes, token: str, *, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired token; LinkInvalid or LinkExpired otherwise, before any lookup."""
    # 36 bytes are exactly 48 characters: no padding, no spare bits, one text per token.
    if not _ALPHABET.fullmatch(token):
        raise LinkInvalid()
    raw = base64.urlsafe_b64decode(token)
    body, mac = raw[:_ID + _EXPIRY], raw[_ID + _EXPIRY:]
    if not hmac.compare_digest(mac, _mac(secret, body)):
        raise LinkInvalid()
    expires_at = datetime.fromtimestamp(int.from_bytes(body[_ID:], "big"), UTC)
    if now >= expires_at:
        raise LinkExpired()
    return LinkClaims(link_id=UUID(bytes=body[:_ID]), expires_at=expires_at)


def path_of(token: str) -> str:
    return PATH_PREFIX + token
