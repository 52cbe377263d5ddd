"""The DSN audit runs as: same server and database, its own role."""

import pytest

from services.audit.roles import role_of, with_role

pytestmark = pytest.mark.unit


def test_with_role_replaces_user_and_password_only():
    dsn = with_role("postgresql://postgres@127.0.0.1:55432/bianmin?sslmode=disable", "bianmin_audit_writer", "p/w@x")
    assert dsn == "postgresql://bianmin_audit_writer:p%2Fw%40x@127.0.0.1:55432/bianmin?sslmode=disable"
    assert role_of(dsn) == "bianmin_audit_writer"


def test_a_runtime_url_must_name_its_role():
    with pytest.raises(ValueError, match="AUDIT_DATABASE_URL"):
        role_of("postgresql://127.0.0.1:5432/bianmin")
