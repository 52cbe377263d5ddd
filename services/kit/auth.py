"""Bearer-JWT authentication shared by every service's HTTP API: who is calling.

What each role may do is in `services.kit.access`; this module only checks that a token is
genuine (signature, issuer, audience, a bounded lifetime) and turns it into a Principal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, Request

from services.kit.errors import ApiError

# The people who act on cases; what an event's actor may be (contracts.envelope.ActorKind).
Role = Literal["staff", "village_agent", "centre_head", "inspector", "admin"]
# Devices with a token of their own, bound to a township: the rating pad at a window (评价器). A device is
# never an event's actor (a pad's rating is the resident's), so it stays out of `Role`.
DEVICE_ROLES: tuple[str, ...] = ("window_pad",)
ROLES: tuple[str, ...] = ("staff", "village_agent", "centre_head", "inspector", "admin", *DEVICE_ROLES)
# Roles that see every township; the others are bound to the township in their token.
COUNTY_WIDE: frozenset[str] = frozenset({"admin", "inspector"})
ALGORITHM = "HS256"
# Accepted only when BIANMIN_ENV=development and no secret is configured; never in production.
DEV_SECRET = "bianmin-development-secret-change-me"
MIN_SECRET_LENGTH = 32
DEFAULT_ISSUER = "bianmin"
DEFAULT_AUDIENCE = "bianmin"
DEFAULT_TTL = timedelta(hours=12)
LEEWAY_SECONDS = 30  # clock skew between the issuing host and the services


class ConfigurationError(Exception):
    """A service cannot start with these settings; the message is one line for county IT."""


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role  # or one of DEVICE_ROLES: every action that records the caller as actor refuses devices
    township_id: str | None
    department_code: str | None = None


@dataclass(frozen=True)
class Verifier:
    """How this service checks tokens: one key, its algorithms, who issues, who they are for."""

    key: Any
    algorithms: tuple[str, ...]
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    max_ttl: timedelta = DEFAULT_TTL

    def decode(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self.key, algorithms=list(self.algorithms), audience=self.audience,
                                issuer=self.issuer, leeway=LEEWAY_SECONDS,
                                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("TOKEN_EXPIRED", "登录凭证已过期，请重新登录") from exc
        except jwt.PyJWTError as exc:
            raise _unauthorized("TOKEN_INVALID", "登录凭证无效") from exc
        if claims["exp"] - claims["iat"] > self.max_ttl.total_seconds():
            raise _unauthorized("TOKEN_LIFETIME_TOO_LONG", "登录凭证有效期超过允许上限，请重新签发")
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    role, township = claims.get("role"), claims.get("township_id")
    if role not in ROLES:
        raise _unauthorized("TOKEN_INVALID", "登录凭证中的角色无效")
    if role not in COUNTY_WIDE and not township:
        raise _unauthorized("TOKEN_INVALID", "登录凭证缺少所属乡镇")
    return Principal(sub=str(claims["sub"]), role=role, township_id=township,
                     department_code=claims.get("department_code") or None)


def verifier_from(settings: Any) -> Verifier:
    """The verifier a service's settings ask for, or ConfigurationError when they are unsafe.

    A public key file wins over a secret (no HS/RS confusion: only its own algorithm is accepted).
    """
    common = {"issuer": settings.jwt_issuer, "audience": settings.jwt_audience,
              "max_ttl": timedelta(seconds=settings.jwt_max_ttl_seconds)}
    if settings.jwt_public_key_file:
        key, algorithm = load_public_key(Path(settings.jwt_public_key_file))
        return Verifier(key=key, algorithms=(algorithm,), **common)
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    if not secret and settings.environment == "development":
        return Verifier(key=DEV_SECRET, algorithms=(ALGORITHM,), **common)
    if not secret:
        raise ConfigurationError(
            "no JWT key: set BIANMIN_JWT_SECRET (at least 32 characters) or BIANMIN_JWT_PUBLIC_KEY_FILE, "
            "or BIANMIN_ENV=development on a developer machine")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"BIANMIN_JWT_SECRET is too short: {len(secret)} characters, "
                                 f"at least {MIN_SECRET_LENGTH} required")
    if secret == DEV_SECRET and settings.environment != "development":
        raise ConfigurationError("BIANMIN_JWT_SECRET is the public development secret; generate your own")
    return Verifier(key=secret, algorithms=(ALGORITHM,), **common)


def load_public_key(path: Path) -> tuple[Any, str]:
    """An Ed25519 (EdDSA) or RSA (RS256) public key in PEM, and the one algorithm it verifies."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"BIANMIN_JWT_PUBLIC_KEY_FILE {path} is not a readable PEM public key: {exc}") from exc
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, "EdDSA"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return key, "RS256"
    raise ConfigurationError(f"BIANMIN_JWT_PUBLIC_KEY_FILE {path} must hold an Ed25519 or RSA (>= 2048 bit) key")


def issue_token(*, secret: Any, role: str, township_id: str | None, sub: str, ttl: timedelta = DEFAULT_TTL,
                department_code: str | None = None, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE,
                algorithm: str = ALGORITHM) -> str:
    """`secret` is the HS256 secret, or a private key with algorithm="EdDSA"/"RS256"."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role not in COUNTY_WIDE and not township_id:
        raise ValueError(f"role {role} needs a township")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": now, "exp": now + ttl, "iss": issuer, "aud": audience}
    if township_id:
        claims["township_id"] = township_id
    if department_code:
        claims["department_code"] = department_code
    return jwt.encode(claims, secret, algorithm=algorithm)


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "TOKEN_MISSING", "请先登录：缺少 Authorization: Bearer 凭证",
                       headers={"WWW-Authenticate": "Bearer"})
    verifier: Verifier = request.app.state.jwt_verifier
    return verifier.decode(token.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

