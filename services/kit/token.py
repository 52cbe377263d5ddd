"""Prints a token for this install: python -m services.kit.token --role staff --township qingshui

Signs with BIANMIN_JWT_SECRET, else the per-install secret `make up` gave the services
(`.local/jwt-secret`); with --private-key, signs EdDSA/RS256 for services given the public key.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from services.kit.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER, ROLES, issue_token
from services.kit.local_secret import install_secret


def bearer_header(role: str, township_id: str | None, sub: str, *, department_code: str | None = None,
                  **claims) -> dict[str, str]:
    """An Authorization header signed with this install's secret (the demo, the bench, the tests).

    Extra keyword args go to `issue_token` (ttl, issuer, audience, ...)."""
    token = issue_token(secret=install_secret(), role=role, township_id=township_id, sub=sub,
                        department_code=department_code, **claims)
    return {"Authorization": f"Bearer {token}"}


def _signing_key(private_key: str | None) -> tuple[object, str]:
    if not private_key:
        return install_secret(), "HS256"
    key = load_pem_private_key(Path(private_key).read_bytes(), password=None)
    return key, "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "RS256"


def main() -> int:
    parser = argparse.ArgumentParser(description="Issue a token for this install (12 h by default).")
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--township", default="", help="township_id; required for all roles but admin and inspector")
    parser.add_argument("--sub", default="dev-user", help="user id (for staff: the staff id in routing's directory)")
    parser.add_argument("--department", default="", help="department_code of a staff member, e.g. social_security")
    parser.add_argument("--hours", type=float, default=12.0, help="lifetime; services refuse more than their maximum")
    parser.add_argument("--issuer", default=DEFAULT_ISSUER)
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE)
    parser.add_argument("--private-key", default=None, help="PEM Ed25519/RSA private key instead of the secret")
    args = parser.parse_args()
    key, algorithm = _signing_key(args.private_key)
    try:
        token = issue_token(secret=key, algorithm=algorithm, role=args.role, township_id=args.township or None,
                            sub=args.sub, department_code=args.department or None, ttl=timedelta(hours=args.hours),
                            issuer=args.issuer, audience=args.audience)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
