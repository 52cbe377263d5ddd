"""SMS rating link tokens: genuine, current, of this secret; never stored, only hashed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.errors import DomainError
from services.intake.rating_links import TOKEN_LENGTH, make_token, new_claims, path_of, read_token, token_hash

pytestmark = pytest.mark.unit
SECRET = b"s" * 32
NOW = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)


def code(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_a_token_reads_back_until_it_expires():
    claims = new_claims(NOW, timedelta(days=7))
    token = make_token(SECRET, claims)
    assert len(token) == TOKEN_LENGTH and path_of(token) == f"/api/v1/rate/{token}"
    assert claims.expires_at == datetime(2026, 11, 30, 8, 30, 15, tzinfo=UTC)  # whole seconds, as carried
    assert read_token(SECRET, token, now=NOW + timedelta(days=6)) == claims
    assert code(lambda: read_token(SECRET, token, now=claims.expires_at)) == "RATING_LINK_EXPIRED"


def test_the_same_claims_make_the_same_token_so_it_need_not_be_stored():
    claims = new_claims(NOW, timedelta(days=7))
    assert make_token(SECRET, claims) == make_token(SECRET, claims)
    assert token_hash(make_token(SECRET, claims)) != make_token(SECRET, claims)
    assert make_token(SECRET, new_claims(NOW, timedelta(days=7))) != make_token(SECRET, claims)


def test_another_secret_or_a_changed_character_is_invalid():
    token = make_token(SECRET, new_claims(NOW, timedelta(days=7)))
    assert code(lambda: read_token(b"t" * 32, token, now=NOW)) == "RATING_LINK_INVALID"
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert code(lambda: read_token(SECRET, flipped, now=NOW)) == "RATING_LINK_INVALID"


@given(st.text(max_size=80))
def test_no_text_is_mistaken_for_a_token_or_breaks_the_reader(text):
    assert code(lambda: read_token(SECRET, text, now=NOW)) == "RATING_LINK_INVALID"


def test_the_secret_is_long_enough_or_absent_and_then_there_are_no_links():
    from services.intake.rating_commands import link_policy
    from services.intake.settings import IntakeSettings
    from services.kit.auth import ConfigurationError
    from services.kit.errors import ApiError

    with pytest.raises(ConfigurationError, match="INTAKE_RATING_LINK_SECRET is too short"):
        link_policy(IntakeSettings(rating_link_secret="short"))
    off = link_policy(IntakeSettings(rating_link_secret=""))
    with pytest.raises(ApiError) as caught:
        off.require()
    assert (caught.value.status, caught.value.code) == (503, "RATING_LINKS_DISABLED")
    on = link_policy(IntakeSettings(rating_link_secret=SECRET.decode(), rating_link_ttl_days=2))
    assert on.require() == SECRET and on.ttl == timedelta(days=2)
