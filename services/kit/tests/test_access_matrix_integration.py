"""Every cell of the role x endpoint matrix, through HTTP on the four services (real Kafka and PostgreSQL).

The four apps run in-process on one database, as `make up` runs them: a case taken in at intake
is routed, messaged and audited for real before the readers ask for it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

import httpx
import pytest

from services.audit.app import create_app as audit_app
from services.audit.settings import AuditSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.intake.tests.document_events import append_case, referred, rejected, requested
from services.kit.access import POLICY
from services.kit.auth import ROLES
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end
from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from services.routing.app import create_app as routing_app
from services.routing.settings import RoutingSettings
from tests.builders import case_body

pytestmark = pytest.mark.integration
APPS = {"intake": (intake_app, IntakeSettings), "routing": (routing_app, RoutingSettings),
        "notify": (notify_app, NotifySettings), "audit": (audit_app, AuditSettings)}
HEAD = auth_header("centre_head", "qingshui", sub="head-qs")
SEEDS = itertools.count(500)


def token(role: str, *, holding: dict | None = None, township: str = "qingshui") -> dict[str, str]:
    """A caller of this role in qingshui; staff are of social_security unless they hold `holding`."""
    if role in ("inspector", "admin"):
        return auth_header(role, None, sub=f"{role}-01")
    if role == "staff":
        view = holding or {"staff_id": "qs-social_security-09", "department_code": "social_security"}
        return auth_header("staff", township, sub=view["staff_id"], department_code=view["department_code"])
    return auth_header(role, township, sub=f"{role}-01")


@dataclass
class County:
    clients: dict[str, httpx.AsyncClient]
    apps: dict
    case: dict  # taken in, routed, messaged and audited

    async def take_in(self) -> dict:
        resp = await self.clients["intake"].post("/api/v1/cases", json=case_body(next(SEEDS)), headers=HEAD)
        assert resp.status_code == 201, resp.text
        return await self.routed(resp.json()["case_id"])

    async def routed(self, case_id: str) -> dict:
        async def probe():
            resp = await self.clients["routing"].get(f"/api/v1/cases/{case_id}", headers=HEAD)
            return resp.json() if resp.status_code == 200 else None
        return await eventually(probe, what=f"routing to assign {case_id}")

    async def completed_at_intake(self) -> dict:
        view = await self.take_in()
        done = await self.clients["routing"].post(f"/api/v1/cases/{view['case_id']}/complete",
                                                  json={"result": "granted", "note": "已办结"}, headers=HEAD)
        assert done.status_code == 200, done.text

        async def probe():
            resp = await self.clients["intake"].get(f"/api/v1/cases/{view['case_id']}", headers=HEAD)
            return resp.json()["status"] == "completed"
        await eventually(probe, what="intake to learn the case is completed")
        return view


async def _seen_by_readers(county: County, case_id: str) -> None:
    async def messaged():
        resp = await county.clients["notify"].get("/api/v1/messages", params={"case_id": case_id}, headers=HEAD)
        return resp.status_code == 200 and resp.json()

    async def audited():
        resp = await county.clients["audit"].get(f"/api/v1/cases/{case_id}/history", headers=token("inspector"))
        return resp.status_code == 200 and len(resp.json()["events"]) >= 2
    await eventually(messaged, what="notify to record the case's SMS")
    await eventually(audited, what="audit to record the case's events")


@pytest.fixture(scope="module")
async def county(infra, make_database):
    dsn, suffix = await make_database("it_access"), f"-acl-{uuid4().hex[:6]}"
    apps, clients = {}, {}
    for name in APPS:
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
    async with running_app(_app("intake", dsn, infra, suffix, apps)) as clients["intake"], \
            running_app(_app("routing", dsn, infra, suffix, apps)) as clients["routing"], \
            running_app(_app("notify", dsn, infra, suffix, apps)) as clients["notify"], \
            running_app(_app("audit", dsn, infra, suffix, apps)) as clients["audit"]:
        county = County(clients=clients, apps=apps, case={})
        county.case = await county.take_in()
        await _seen_by_readers(county, county.case["case_id"])
        yield county


def _app(name: str, dsn: str, infra, suffix: str, apps: dict):
    create, settings_type = APPS[name]
    apps[name] = create(settings_type(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                                      BIANMIN_CONSUMER_GROUP_SUFFIX=suffix))
    return apps[name]


Call = Callable[[County, str, bool], Awaitable[httpx.Response]]


async def _get(county: County, service: str, path: str, headers: dict, **params) -> httpx.Response:
    return await county.clients[service].get(path, headers=headers, params=params)


async def _decide(county: County, role: str, allowed: bool, verb: str, body: dict) -> httpx.Response:
    view = await county.take_in() if allowed else county.case  # a refused role is refused before any read
    return await county.clients["routing"].post(f"/api/v1/cases/{view['case_id']}/{verb}", json=body,
                                                headers=token(role, holding=view))


async def _rate(county: County, role: str, allowed: bool) -> httpx.Response:
    view = await county.completed_at_intake() if allowed else county.case
    return await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/rating",
                                               json={"score": 5, "comment": "好"}, headers=token(role))


async def _erase(county: County, role: str, allowed: bool) -> httpx.Response:
    view = await county.take_in() if allowed else county.case  # each erasure needs a contact not yet erased
    return await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/contact-erasure",
                                               json={"reason": "申请人要求删除联系方式"}, headers=token(role))


def _case(county: County) -> str:
    return county.case["case_id"]


async def _print(county: County, role: str, allowed: bool, document: str) -> httpx.Response:
    case_id = county.case["case_id"]
    if allowed and document != "receipt.pdf":  # a case that has the notice, rejection and referral to print
        case_id = await append_case(county.apps["intake"].state.runtime.pool, requested(1), rejected(), referred())
    return await _get(county, "intake", f"/api/v1/cases/{case_id}/documents/{document}", token(role))


# action -> (the request a caller of `role` makes, the status when allowed)
CALLS: dict[str, tuple[Call, int]] = {
    "intake.list_townships": (lambda c, r, a: _get(c, "intake", "/api/v1/townships", token(r)), 200),
    "intake.read_catalogue": (lambda c, r, a: _get(c, "intake", "/api/v1/catalogue", token(r)), 200),
    "intake.submit_case": (lambda c, r, a: c.clients["intake"].post(
        "/api/v1/cases", json=case_body(next(SEEDS)), headers=token(r)), 201),
    "intake.read_case": (lambda c, r, a: _get(c, "intake", f"/api/v1/cases/{_case(c)}", token(r)), 200),
    "intake.rate_case": (_rate, 201),
    "intake.erase_contact": (_erase, 200),
    "intake.print_receipt": (lambda c, r, a: _print(c, r, a, "receipt.pdf"), 200),
    "intake.print_notice": (lambda c, r, a: _print(c, r, a, "notice-1.pdf"), 200),
    "intake.print_rejection": (lambda c, r, a: _print(c, r, a, "rejection.pdf"), 200),
    "intake.print_referral": (lambda c, r, a: _print(c, r, a, "referral.pdf"), 200),
    "routing.list_queue": (lambda c, r, a: _get(c, "routing", "/api/v1/cases", token(r), township_id="qingshui"), 200),
    "routing.read_case": (lambda c, r, a: _get(c, "routing", f"/api/v1/cases/{_case(c)}", token(r)), 200),
    "routing.transfer_case": (lambda c, r, a: _decide(
        c, r, a, "transfer", {"to_department_code": "civil_affairs", "reason": "属民政业务"}), 200),
    "routing.complete_case": (lambda c, r, a: _decide(c, r, a, "complete", {"result": "granted", "note": "已办结"}), 200),
    "notify.list_messages": (lambda c, r, a: _get(c, "notify", "/api/v1/messages", token(r), case_id=_case(c)), 200),
    "audit.case_history": (lambda c, r, a: _get(c, "audit", f"/api/v1/cases/{_case(c)}/history", token(r)), 200),
    "audit.integrity": (lambda c, r, a: _get(c, "audit", "/api/v1/integrity", token(r)), 200),
    "audit.events": (lambda c, r, a: _get(c, "audit", "/api/v1/events", token(r)), 200),
    "audit.public_key": (lambda c, r, a: _get(c, "audit", "/api/v1/checkpoints/public-key", token(r)), 200),
    "admin.redrive_dead_letters": (lambda c, r, a: c.clients["routing"].post(
        "/api/v1/admin/dead-letters/redrive", headers=token(r)), 200),
}


def test_every_rule_has_a_call_here():
    assert set(CALLS) == set(POLICY)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(POLICY))
async def test_cell(county, action, role):
    allowed = role in POLICY[action][1]
    call, ok = CALLS[action]
    resp = await call(county, role, allowed)
    if allowed:
        assert resp.status_code == ok, resp.text
    else:
        assert (resp.status_code, resp.json()["code"]) == (403, "ROLE_FORBIDDEN"), resp.text
        assert "无权" in resp.json()["message"]


def _routes(routes):
    for route in routes:  # FastAPI 0.16x keeps included routers as branches
        yield from _routes(route.original_router.routes) if hasattr(route, "original_router") else [route]


async def test_every_api_route_is_guarded_by_its_rule(county):
    declared: dict[str, tuple[set[str], str]] = {}  # action -> (services, "METHOD path")
    for name, app in county.apps.items():
        for route in _routes(app.routes):
            if not getattr(route, "path", "").startswith("/api/v1"):
                continue
            actions = [d.call.access_action for d in route.dependant.dependencies if hasattr(d.call, "access_action")]
            assert len(actions) == 1, f"{name} {route.path} has no access rule"
            path = re.sub(r"\{case_id\}", "{id}", route.path)
            declared.setdefault(actions[0], (set(), f"{next(iter(route.methods))} {path}"))[0].add(name)
    endpoints = {action: f"{'every' if services == set(APPS) else ','.join(services)} {route}"
                 for action, (services, route) in declared.items()}
    assert endpoints == {action: endpoint for action, (endpoint, _) in POLICY.items()}


@pytest.mark.parametrize(("who", "allowed"), [
    ({"sub": "assigned"}, True),  # the assigned staff member, even without a department in the token
    ({"department": "same"}, True),  # a colleague of the assigned department
    ({"department": "civil_affairs"}, False),  # staff of another department of the same centre
])
async def test_only_the_case_holder_among_staff_completes(county, who, allowed):
    view = await county.take_in()
    sub = view["staff_id"] if who.get("sub") == "assigned" else "qs-someone-else"
    department = view["department_code"] if who.get("department") == "same" else who.get("department")
    headers = auth_header("staff", "qingshui", sub=sub, department_code=department)
    resp = await county.clients["routing"].post(f"/api/v1/cases/{view['case_id']}/complete",
                                                json={"result": "granted", "note": "已办结"}, headers=headers)
    if allowed:
        assert resp.status_code == 200, resp.text
    else:
        assert (resp.status_code, resp.json()["code"]) == (403, "NOT_CASE_HOLDER")
        assert (await county.routed(view["case_id"]))["status"] == "assigned"


@pytest.mark.parametrize(("role", "service", "path"), [
    ("staff", "intake", "/api/v1/cases/{id}"),
    ("village_agent", "intake", "/api/v1/cases/{id}"),
    ("staff", "routing", "/api/v1/cases/{id}"),
    ("centre_head", "routing", "/api/v1/cases/{id}"),
    ("centre_head", "audit", "/api/v1/cases/{id}/history"),
    ("staff", "notify", "/api/v1/messages"),
])
async def test_township_roles_see_only_their_township(county, role, service, path):
    headers = token(role, township="baishi")
    resp = await county.clients[service].get(path.format(id=_case(county)), headers=headers,
                                             params={"case_id": _case(county)} if service == "notify" else None)
    assert (resp.status_code, resp.json()["code"]) == (403, "TOWNSHIP_FORBIDDEN")
