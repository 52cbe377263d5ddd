"""Tokens: signature, issuer, audience, bounded lifetime; the settings a service refuses to start with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from services.kit.auth import DEV_SECRET, ConfigurationError, Verifier, issue_token, verifier_from
from services.kit.errors import ApiError

pytestmark = pytest.mark.unit
SECRET = "s" * 40


def settings(**overrides) -> SimpleNamespace:
    base = dict(environment="production", jwt_secret=SecretStr(SECRET), jwt_public_key_file=None,
                jwt_issuer="bianmin", jwt_audience="bianmin", jwt_max_ttl_seconds=12 * 3600)
    return SimpleNamespace(**(base | overrides))


def refused(token: str, verifier: Verifier | None = None) -> str:
    with pytest.raises(ApiError) as caught:
        (verifier or verifier_from(settings())).decode(token)
    assert caught.value.status == 401
    return caught.value.code


def raw(claims: dict, key: str = SECRET) -> str:
    now = datetime.now(UTC)
    base = {"sub": "u1", "role": "staff", "township_id": "qingshui", "iss": "bianmin", "aud": "bianmin",
            "iat": now, "exp": now + timedelta(hours=1)}
    return jwt.encode({k: v for k, v in (base | claims).items() if v is not None}, key, algorithm="HS256")


def test_a_token_of_this_install_gives_its_principal_with_department():
    token = issue_token(secret=SECRET, role="staff", township_id="qingshui", sub="qs-social_security-01",
                        department_code="social_security")
    principal = verifier_from(settings()).decode(token)
    assert (principal.sub, principal.role, principal.township_id, principal.department_code) == (
        "qs-social_security-01", "staff", "qingshui", "social_security")


@pytest.mark.parametrize(("claims", "code"), [
    ({"iss": "someone-else"}, "TOKEN_INVALID"),
    ({"aud": "another-system"}, "TOKEN_INVALID"),
    ({"iss": None}, "TOKEN_INVALID"),
    ({"aud": None}, "TOKEN_INVALID"),
    ({"iat": None}, "TOKEN_INVALID"),
    ({"exp": None}, "TOKEN_INVALID"),
    ({"exp": datetime.now(UTC) - timedelta(hours=1), "iat": datetime.now(UTC) - timedelta(hours=2)}, "TOKEN_EXPIRED"),
    ({"exp": datetime.now(UTC) + timedelta(days=30)}, "TOKEN_LIFETIME_TOO_LONG"),
    ({"role": "mayor"}, "TOKEN_INVALID"),
    ({"township_id": None}, "TOKEN_INVALID"),
])
def test_tokens_without_the_right_claims_are_refused(claims, code):
    assert refused(raw(claims)) == code


def test_a_token_signed_with_another_secret_or_the_dev_secret_is_refused():
    assert refused(raw({}, key="x" * 40)) == "TOKEN_INVALID"
    assert refused(raw({}, key=DEV_SECRET)) == "TOKEN_INVALID"


def test_the_maximum_lifetime_is_configurable():
    short = verifier_from(settings(jwt_max_ttl_seconds=600))
    assert refused(raw({}), short) == "TOKEN_LIFETIME_TOO_LONG"


@pytest.mark.parametrize(("overrides", "words"), [
    ({"jwt_secret": None}, "no JWT key: set BIANMIN_JWT_SECRET"),
    ({"jwt_secret": SecretStr("")}, "no JWT key"),
    ({"jwt_secret": SecretStr("short")}, "too short"),
    ({"jwt_secret": SecretStr(DEV_SECRET)}, "public development secret"),
    ({"jwt_public_key_file": "/nonexistent/key.pem"}, "not a readable PEM public key"),
])
def test_production_refuses_to_start_without_its_own_key(overrides, words):
    with pytest.raises(ConfigurationError, match=words) as caught:
        verifier_from(settings(**overrides))
    assert "\n" not in str(caught.value)


def test_development_mode_alone_falls_back_to_the_dev_secret():
    verifier = verifier_from(settings(environment="development", jwt_secret=None))
    assert verifier.decode(raw({}, key=DEV_SECRET)).sub == "u1"


def test_an_ed25519_public_key_verifies_eddsa_tokens_and_nothing_else(tmp_path):
    private = ed25519.Ed25519PrivateKey.generate()
    pem = tmp_path / "jwt.pub.pem"
    pem.write_bytes(private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    verifier = verifier_from(settings(jwt_public_key_file=str(pem), jwt_secret=None))
    token = issue_token(secret=private, algorithm="EdDSA", role="inspector", township_id=None, sub="insp-1")
    assert verifier.decode(token).role == "inspector"
    assert refused(raw({}), verifier) == "TOKEN_INVALID"  # an HS256 token is no good once a key is configured
