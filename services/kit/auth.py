"""Bearer-JWT authentication and the township rule shared by every service's HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Request

from services.kit.errors import ApiError

Role = Literal["staff", "village_agent", "centre_head", "inspector", "admin"]
ROLES: tuple[str, ...] = ("staff", "village_agent", "centre_head", "inspector", "admin")
# Roles that see every township; the others are bound to the township in their token.
COUNTY_WIDE: frozenset[str] = frozenset({"admin", "inspector"})
ALGORITHM = "HS256"
DEV_SECRET = "bianmin-development-secret-change-me"


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    township_id: str | None

    def can_see(self, township_id: str) -> bool:
        return self.role in COUNTY_WIDE or self.township_id == township_id


def issue_token(*, secret: str, role: str, township_id: str | None, sub: str, ttl: timedelta = timedelta(hours=12)) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role not in COUNTY_WIDE and not township_id:
        raise ValueError(f"role {role} needs a township")
    now = datetime.now(UTC)
    claims = {"sub": sub, "role": role, "iat": now, "exp": now + ttl}
    if township_id:
        claims["township_id"] = township_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, *, secret: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("TOKEN_EXPIRED", "登录凭证已过期，请重新登录") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorized("TOKEN_INVALID", "登录凭证无效") from exc
    role, township = claims.get("role"), claims.get("township_id")
    if role not in ROLES:
        raise _unauthorized("TOKEN_INVALID", "登录凭证中的角色无效")
    if role not in COUNTY_WIDE and not township:
        raise _unauthorized("TOKEN_INVALID", "登录凭证缺少所属乡镇")
    return Principal(sub=str(claims["sub"]), role=role, township_id=township)


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message)


def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "TOKEN_MISSING", "请先登录：缺少 Authorization: Bearer 凭证")
    return decode_token(token.strip(), secret=request.app.state.jwt_secret)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise ApiError(403, "ROLE_FORBIDDEN", "当前角色无权执行此操作")


def require_township(principal: Principal, township_id: str) -> None:
    if not principal.can_see(township_id):
        raise ApiError(403, "TOWNSHIP_FORBIDDEN", "无权访问其他乡镇的办件")
