"""The access table: its shape, the scopes it grants, and that the README shows it as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kit.access import ALL, HOLDER, POLICY, PUBLIC, TOWNSHIP, grant, markdown_matrix, public
from services.kit.auth import ROLES, Principal
from services.kit.errors import ApiError

pytestmark = pytest.mark.unit
README = Path(__file__).resolve().parents[3] / "README.md"


def staff(**kw) -> Principal:
    return Principal(**({"sub": "qs-social_security-01", "role": "staff", "township_id": "qingshui",
                         "department_code": "social_security"} | kw))


def refusal(call) -> str:
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.status == 403
    return caught.value.code


def test_every_rule_names_known_roles_and_scopes():
    for endpoint, roles in POLICY.values():
        assert set(roles) <= set(ROLES), endpoint
        assert set(roles.values()) <= {ALL, TOWNSHIP, HOLDER} or set(roles.values()) == {PUBLIC}, endpoint
        assert PUBLIC not in roles.values() or set(roles) == set(ROLES), f"{endpoint}: public is for every role"


# What inspectors write: only their own accountability ledger (责任追究台账, ADR 34), never a case.
INSPECTORS_RECORD = {"audit.record_accountability"}


def test_inspectors_read_everything_and_change_nothing():
    for action, (endpoint, roles) in POLICY.items():
        method = endpoint.split(" ")[1]
        if roles.get("inspector") == PUBLIC:  # the resident's own pages: no token is read at all
            continue
        assert (roles.get("inspector") == ALL) == (method == "GET" or action in INSPECTORS_RECORD), action
    assert all(POLICY[action][1] == {"inspector": ALL} for action in INSPECTORS_RECORD)


def test_a_role_not_in_the_rule_is_refused_before_any_case_is_read():
    assert refusal(lambda: grant(staff(role="village_agent", department_code=None), "routing.list_queue")) \
        == "ROLE_FORBIDDEN"


def test_the_holder_scope_takes_the_assigned_staff_or_their_department():
    complete = grant(staff(), "routing.complete_case")
    complete.case(township_id="qingshui", department_code="social_security", staff_id="qs-social_security-02")
    by_id = grant(staff(department_code=None), "routing.complete_case")
    by_id.case(township_id="qingshui", department_code="civil_affairs", staff_id="qs-social_security-01")
    other = grant(staff(sub="qs-civil_affairs-01", department_code="civil_affairs"), "routing.complete_case")
    assert refusal(lambda: other.case(township_id="qingshui", department_code="social_security",
                                      staff_id="qs-social_security-01")) == "NOT_CASE_HOLDER"
    assert refusal(lambda: complete.case(township_id="baishi", department_code="social_security",
                                         staff_id="qs-social_security-01")) == "TOWNSHIP_FORBIDDEN"


def test_the_centre_head_decides_any_case_of_their_township():
    head = grant(Principal(sub="head", role="centre_head", township_id="qingshui"), "routing.complete_case")
    head.case(township_id="qingshui", department_code="civil_affairs", staff_id="someone")
    assert refusal(lambda: head.township("baishi")) == "TOWNSHIP_FORBIDDEN"


def test_the_readme_shows_the_matrix_the_code_enforces():
    assert markdown_matrix() in README.read_text(encoding="utf-8"), \
        "README's access matrix is stale: paste `python -m services.kit.access`"


def test_a_public_rule_is_open_to_every_role_and_only_reads():
    rules = {action: (endpoint, roles) for action, (endpoint, roles) in POLICY.items() if PUBLIC in roles.values()}
    assert rules, "the catalogue, the hall's board and the resident's own pages are public"
    for action, (_, roles) in rules.items():
        assert roles == dict.fromkeys(ROLES, PUBLIC), action
        assert public(action)() is None  # no principal asked for
    with pytest.raises(KeyError):
        public("intake.hall_stats")


def test_only_a_public_rule_may_skip_the_token():
    assert public("intake.read_catalogue").access_action == "intake.read_catalogue"  # type: ignore[attr-defined]
    with pytest.raises(KeyError, match="not public"):
        public("intake.read_case")
