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
from services.kit.access import POLICY, PUBLIC
from services.kit.auth import ROLES
from services.kit.testing import auth_header, client_from, eventually, running_app, start_group_at_end
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

    async def take_in(self, **body) -> dict:
        resp = await self.clients["intake"].post("/api/v1/cases", json=case_body(next(SEEDS), **body), headers=HEAD)
        assert resp.status_code == 201, resp.text
        return await self.routed(resp.json()["case_id"])

    async def applied(self, *, by: dict = HEAD, **body) -> dict:
        """An application not yet accepted: `channel="online"` awaits review, missing materials get a notice."""
        resp = await self.clients["intake"].post("/api/v1/cases", json=case_body(next(SEEDS), **body), headers=by)
        assert resp.status_code == 201, resp.text
        return resp.json()

    async def routed(self, case_id: str) -> dict:
        async def probe():
            resp = await self.clients["routing"].get(f"/api/v1/cases/{case_id}", headers=HEAD)
            return resp.json() if resp.status_code == 200 else None
        return await eventually(probe, what=f"routing to assign {case_id}")

    async def completed_at_intake(self) -> dict:
        return await self.complete(await self.take_in())

    async def complete(self, view: dict) -> dict:
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


async def _after(county: County, role: str, allowed: bool, first: tuple[str, dict], verb: str,
                 body: dict) -> httpx.Response:
    """A case on which the centre head did `first`, then the role's `verb` on it."""
    if not allowed:
        return await _decide(county, role, allowed, verb, body)
    view = await county.take_in()
    done = await county.clients["routing"].post(f"/api/v1/cases/{view['case_id']}/{first[0]}", json=first[1],
                                                headers=HEAD)
    assert done.status_code == 200, done.text
    return await county.clients["routing"].post(f"/api/v1/cases/{view['case_id']}/{verb}", json=body,
                                                headers=token(role, holding=view))


async def _share(county: County, role: str, allowed: bool) -> httpx.Response:
    """The own department's share of a joint case (乡村建设规划许可: natural resources with agriculture)."""
    if not allowed:
        return await _decide(county, role, allowed, "shares/social_security", {"result": "granted"})
    view = await county.take_in(item_code="ZR-001", materials=["id_card", "site_plan_drawing", "land_proof"])
    return await county.clients["routing"].post(f"/api/v1/cases/{view['case_id']}/shares/natural_resources",
                                                json={"result": "granted", "note": "符合规划"},
                                                headers=token(role, holding=view))


ESCALATION = {"county_department": "县人社局", "sent_materials": ["id_card"], "note": "初审通过，报县审批"}


async def _rate(county: County, role: str, allowed: bool) -> httpx.Response:
    view = await county.completed_at_intake() if allowed else county.case
    return await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/rating",
                                               json={"score": 5, "comment": "好"}, headers=token(role))


async def _rating_link(county: County, role: str) -> str:
    """A fresh link of a completed case, issued by its centre head."""
    view = await county.completed_at_intake()
    resp = await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/rating-link", headers=HEAD)
    assert resp.status_code == 201, resp.text
    return resp.json()["path"]


async def _issue_link(county: County, role: str, allowed: bool) -> httpx.Response:
    view = await county.completed_at_intake() if allowed else county.case
    return await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/rating-link", headers=token(role))


async def _status(county: County, role: str, verb: str) -> httpx.Response:
    """The applicant's status page (case_body's phone), asked with whatever token the role holds: none is read."""
    view = await county.completed_at_intake() if verb == "rate" else county.case
    async with client_from(county.apps["intake"], f"198.51.100.{next(SEEDS) % 250}") as client:
        path = f"/api/v1/cases/{view['case_no']}/status" + ("/rating" if verb == "rate" else "")
        headers = token(role) | {"X-Applicant-Phone": "13912345678"}
        return await (client.post(path, json={"score": 5}, headers=headers) if verb == "rate"
                      else client.get(path, headers=headers))


async def _status_rate_again(county: County, role: str) -> httpx.Response:
    """Rating again from the status page: public, so every role reaches the rule, which finds no rectification
    asking for it (409 RATING_AGAIN_NOT_ASKED); the second round itself is in intake's own tests. A case of its
    own each time: the status page's limit per case number would otherwise answer 429."""
    view = await county.take_in()
    async with client_from(county.apps["intake"], f"198.51.100.{next(SEEDS) % 250}") as client:
        resp = await client.post(f"/api/v1/cases/{view['case_no']}/status/rating-again", json={"score": 4},
                                 headers=token(role) | {"X-Applicant-Phone": "13912345678"})
    assert resp.status_code != 409 or resp.json()["code"] == "RATING_AGAIN_NOT_ASKED", resp.text
    return resp


async def _rate_again(county: County, role: str, allowed: bool) -> httpx.Response:
    """In person, a case no rectification asked about: an allowed role reaches the rule (409)."""
    view = await county.take_in() if allowed else county.case
    resp = await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/rating-again", json={"score": 4},
                                               headers=token(role))
    assert resp.status_code != 409 or resp.json()["code"] == "RATING_AGAIN_NOT_ASKED", resp.text
    return resp


async def _erase(county: County, role: str, allowed: bool) -> httpx.Response:
    view = await county.take_in() if allowed else county.case  # each erasure needs a contact not yet erased
    return await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/contact-erasure",
                                               json={"reason": "申请人要求删除联系方式"}, headers=token(role))


def _submit(county: County, role: str, allowed: bool) -> Awaitable[httpx.Response]:
    """An agent takes cases in at a village point; everyone else at the window."""
    where = {"channel": "village_point", "village_id": "qs-dongfeng"} if role == "village_agent" else {}
    return county.clients["intake"].post("/api/v1/cases", json=case_body(next(SEEDS), **where), headers=token(role))


async def _on_application(county: County, role: str, allowed: bool, verb: str, body: dict, **application) -> httpx.Response:
    case_id = (await county.applied(**application))["case_id"] if allowed else _case(county)
    return await county.clients["intake"].post(f"/api/v1/cases/{case_id}/{verb}", json=body, headers=token(role))


AGENT = token("village_agent")


async def _deliver(county: County, role: str, allowed: bool) -> httpx.Response:
    """An agent's case, accepted, decided and then delivered by the agent or by the centre."""
    case_id = _case(county)
    if allowed:
        case_id = (await county.applied(by=AGENT, channel="village_point", village_id="qs-dongfeng"))["case_id"]
        reviewed = await county.clients["intake"].post(f"/api/v1/cases/{case_id}/review", json={}, headers=HEAD)
        assert reviewed.json()["status"] == "submitted", reviewed.text
        await county.complete(await county.routed(case_id))
    return await county.clients["intake"].post(f"/api/v1/cases/{case_id}/delivery",
                                               json={"acknowledgement": "signature"}, headers=token(role))


async def _read_link(county: County, role: str) -> httpx.Response:
    return await county.clients["intake"].get(await _rating_link(county, role), headers=token(role))


async def _use_link(county: County, role: str) -> httpx.Response:
    return await county.clients["intake"].post(await _rating_link(county, role), json={"score": 5}, headers=token(role))


def _case(county: County) -> str:
    return county.case["case_id"]


COMPLAINT = {"township_id": "qingshui", "subject": "窗口无人", "content": "上午无人办理", "department_code": "social_security",
             "complainant_name": "李四"}


async def _complaint(county: County) -> str:
    resp = await county.clients["intake"].post("/api/v1/complaints", json=COMPLAINT, headers=HEAD)
    assert resp.status_code == 201, resp.text
    return resp.json()["complaint_id"]


async def _answer(county: County, role: str, allowed: bool) -> httpx.Response:
    complaint_id = await _complaint(county) if allowed else str(uuid4())  # a refused role is refused before any read
    if allowed:
        async def held():
            resp = await county.clients["routing"].get("/api/v1/complaints", headers=HEAD)
            return complaint_id in {c["complaint_id"] for c in resp.json()["complaints"]}
        await eventually(held, what="routing to hold the complaint")
    return await county.clients["routing"].post(f"/api/v1/complaints/{complaint_id}/answer",
                                                json={"answer": "已核实整改", "upheld": True}, headers=token(role))


async def _erase_complainant(county: County, role: str, allowed: bool) -> httpx.Response:
    resp = await county.clients["intake"].post("/api/v1/complaints", json=COMPLAINT | {"complainant_phone": "13900139000"},
                                               headers=HEAD)
    return await county.clients["intake"].post(f"/api/v1/complaints/{resp.json()['complaint_id']}/contact-erasure",
                                               json={"reason": "投诉人要求删除联系方式"}, headers=token(role))


async def _read_complaint(county: County, role: str) -> httpx.Response:
    return await _get(county, "intake", f"/api/v1/complaints/{await _complaint(county)}", token(role))


async def _print(county: County, role: str, allowed: bool, document: str) -> httpx.Response:
    """The receipt of the accepted case; a notice and then a refusal of an incomplete one; a referral."""
    case_id = county.case["case_id"]
    if allowed and document in ("notice-1.pdf", "rejection.pdf"):
        case_id = (await county.applied(materials=["id_card"]))["case_id"]
        if document == "rejection.pdf":
            refused = await county.clients["intake"].post(f"/api/v1/cases/{case_id}/rejection", headers=HEAD, json={
                "reason": "不属本乡镇户籍", "legal_basis": "《行政许可法》第三十二条"})
            assert refused.status_code == 200, refused.text
    elif allowed and document == "referral.pdf":
        referred = await county.clients["intake"].post("/api/v1/referrals", headers=HEAD, json={
            "township_id": "qingshui", "matter": "不动产登记", "referred_to": "县政务服务中心"})
        case_id = referred.json()["referral_id"]
    return await _get(county, "intake", f"/api/v1/cases/{case_id}/documents/{document}", token(role))


# action -> (the request a caller of `role` makes, the status when allowed)
CALLS: dict[str, tuple[Call, int]] = {
    "intake.list_townships": (lambda c, r, a: _get(c, "intake", "/api/v1/townships", token(r)), 200),
    "intake.read_catalogue": (lambda c, r, a: _get(c, "intake", "/api/v1/catalogue", token(r)), 200),
    "intake.read_service_guide": (lambda c, r, a: _get(c, "intake", "/api/v1/catalogue/SB-002", token(r)), 200),
    "intake.list_departments": (lambda c, r, a: _get(c, "intake", "/api/v1/departments", token(r)), 200),
    "intake.submit_case": (_submit, 201),
    "intake.review_case": (lambda c, r, a: _on_application(c, r, a, "review", {}, channel="online"), 200),
    "intake.supply_materials": (lambda c, r, a: _on_application(
        c, r, a, "materials", {"materials": ["bank_card"]}, materials=["id_card", "hukou"]), 200),
    "intake.reject_at_intake": (lambda c, r, a: _on_application(
        c, r, a, "rejection", {"reason": "不属本乡镇户籍", "legal_basis": "《行政许可法》第三十二条"}, materials=[]), 200),
    "intake.hand_over": (lambda c, r, a: _on_application(
        c, r, a, "handover", {"materials": ["id_card"]}, by=AGENT, channel="village_point", village_id="qs-dongfeng"), 201),
    "intake.deliver_result": (_deliver, 201),
    "intake.list_cases": (lambda c, r, a: _get(c, "intake", "/api/v1/cases", token(r), township_id="qingshui"), 200),
    "intake.read_case": (lambda c, r, a: _get(c, "intake", f"/api/v1/cases/{_case(c)}", token(r)), 200),
    "intake.rate_case": (_rate, 201),
    "intake.rate_case_again": (_rate_again, 409),
    "intake.erase_contact": (_erase, 200),
    "intake.log_consultation": (lambda c, r, a: c.clients["intake"].post(
        "/api/v1/consultations", json={"township_id": "qingshui", "question": "几点下班？", "answer": "17点"},
        headers=token(r)), 201),
    "intake.report_consultations": (lambda c, r, a: _get(c, "intake", "/api/v1/consultations", token(r),
                                                         township_id="qingshui"), 200),
    "intake.register_complaint": (lambda c, r, a: c.clients["intake"].post(
        "/api/v1/complaints", json=COMPLAINT, headers=token(r)), 201),
    "intake.read_complaint": (lambda c, r, a: _read_complaint(c, r), 200),
    "intake.erase_complainant_contact": (lambda c, r, a: _erase_complainant(c, r, a), 200),
    "intake.refer_matter": (lambda c, r, a: c.clients["intake"].post(
        "/api/v1/referrals", json={"township_id": "qingshui", "matter": "不动产登记", "referred_to": "县政务服务中心"},
        headers=token(r)), 201),
    "intake.issue_rating_link": (_issue_link, 201),
    "intake.read_rating_link": (lambda c, r, a: _read_link(c, r), 200),
    "intake.rate_by_link": (lambda c, r, a: _use_link(c, r), 201),
    "intake.case_status": (lambda c, r, a: _status(c, r, "read"), 200),
    "intake.rate_by_status": (lambda c, r, a: _status(c, r, "rate"), 201),
    "intake.rate_again_by_status": (lambda c, r, a: _status_rate_again(c, r), 409),
    "intake.print_receipt": (lambda c, r, a: _print(c, r, a, "receipt.pdf"), 200),
    "intake.print_notice": (lambda c, r, a: _print(c, r, a, "notice-1.pdf"), 200),
    "intake.print_rejection": (lambda c, r, a: _print(c, r, a, "rejection.pdf"), 200),
    "intake.print_referral": (lambda c, r, a: _print(c, r, a, "referral.pdf"), 200),
    "routing.list_queue": (lambda c, r, a: _get(c, "routing", "/api/v1/cases", token(r), township_id="qingshui"), 200),
    "routing.read_case": (lambda c, r, a: _get(c, "routing", f"/api/v1/cases/{_case(c)}", token(r)), 200),
    "routing.transfer_case": (lambda c, r, a: _decide(
        c, r, a, "transfer", {"to_department_code": "civil_affairs", "reason": "属民政业务"}), 200),
    "routing.complete_case": (lambda c, r, a: _decide(c, r, a, "complete", {"result": "granted", "note": "已办结"}), 200),
    "routing.pause_clock": (lambda c, r, a: _decide(c, r, a, "pause", {"reason": "hearing", "note": "申请人申请听证"}),
                            200),
    "routing.resume_clock": (lambda c, r, a: _after(c, r, a, ("pause", {"reason": "testing", "note": "检测"}),
                                                    "resume", {}), 200),
    "routing.extend_deadline": (lambda c, r, a: _decide(c, r, a, "extension", {"days": 5, "reason": "需现场核查"}), 200),
    "routing.escalate_case": (lambda c, r, a: _decide(c, r, a, "escalation", ESCALATION), 200),
    "routing.record_county_answer": (lambda c, r, a: _after(c, r, a, ("escalation", ESCALATION), "escalation/answer",
                                                            {"result": "granted", "answer": "同意"}), 200),
    "routing.finish_share": (_share, 200),
    "routing.read_workbench": (lambda c, r, a: _get(c, "routing", "/api/v1/workbench", token(r),
                                                    township_id="qingshui"), 200),
    "routing.list_complaints": (lambda c, r, a: _get(c, "routing", "/api/v1/complaints", token(r),
                                                     township_id="qingshui"), 200),
    "routing.answer_complaint": (_answer, 200),
    "notify.list_messages": (lambda c, r, a: _get(c, "notify", "/api/v1/messages", token(r), case_id=_case(c)), 200),
    # Public to the policy, yet no bianmin token opens it: only the providers' receipts secret does (unset here).
    "notify.sms_receipts": (lambda c, r, a: c.clients["notify"].post("/api/v1/sms/receipts/alibaba", json=[],
                                                                      headers=token(r)), 401),
    "audit.case_history": (lambda c, r, a: _get(c, "audit", f"/api/v1/cases/{_case(c)}/history", token(r)), 200),
    "audit.integrity": (lambda c, r, a: _get(c, "audit", "/api/v1/integrity", token(r)), 200),
    "audit.events": (lambda c, r, a: _get(c, "audit", "/api/v1/events", token(r)), 200),
    "audit.public_key": (lambda c, r, a: _get(c, "audit", "/api/v1/checkpoints/public-key", token(r)), 200),
    "audit.checkpoints": (lambda c, r, a: _get(c, "audit", "/api/v1/checkpoints", token(r)), 200),
    "audit.public_keys": (lambda c, r, a: _get(c, "audit", "/api/v1/checkpoints/public-keys", token(r)), 200),
    # Allowed, then refused by the proof's own rules, whether or not a head is signed yet.
    "audit.inclusion_proof": (lambda c, r, a: _get(c, "audit", "/api/v1/proofs/inclusion", token(r),
                                                   event_id=uuid4(), checkpoint=2**31 - 1), 404),
    "audit.consistency_proof": (lambda c, r, a: _get(c, "audit", "/api/v1/proofs/consistency", token(r),
                                                     first=2, second=1), 422),
    "audit.export": (lambda c, r, a: _get(c, "audit", "/api/v1/export", token(r)), 200),
    "audit.inspect_events": (lambda c, r, a: _get(c, "audit", "/api/v1/inspections/events", token(r),
                                                  case_no=c.case["case_no"]), 200),
    "audit.inspect_case": (lambda c, r, a: _get(c, "audit", f"/api/v1/inspections/cases/{c.case['case_no']}", token(r)),
                           200),
    "audit.inspect_anomalies": (lambda c, r, a: _get(c, "audit", "/api/v1/inspections/anomalies/overdue_case", token(r),
                                                     township_id="qingshui"), 200),
    "audit.inspect_figures": (lambda c, r, a: _get(c, "audit", "/api/v1/inspections/figures", token(r),
                                                   township_id="qingshui"), 200),
    "admin.redrive_dead_letters": (lambda c, r, a: c.clients["routing"].post(
        "/api/v1/admin/dead-letters/redrive", headers=token(r)), 200),
}


WINDOWS = itertools.count(1)


async def _hall(county: County, role: str, allowed: bool, step: str) -> httpx.Response:
    """A step of a fresh ticket at a fresh window (a refused role is refused before any read)."""
    intake, staff, window = county.clients["intake"], token("staff"), {"window_no": f"w{next(WINDOWS)}"}
    if not allowed:
        return await intake.post(f"/api/v1/hall/tickets/{uuid4()}/{step}", json=window, headers=token(role))
    issued = await intake.post("/api/v1/hall/tickets", json={"township_id": "qingshui", "queue": "general_window"},
                               headers=staff)
    ticket_id = issued.json()["ticket_id"]
    called = await intake.post("/api/v1/hall/calls", headers=staff, json={
        "township_id": "qingshui", "queues": ["general_window"], **window})
    assert called.json()["ticket_id"] == ticket_id, called.text  # nothing else waits in this queue
    if step == "end":
        assert (await intake.post(f"/api/v1/hall/tickets/{ticket_id}/start", json=window, headers=staff)).is_success
        window |= {"outcome": "served"}
    return await intake.post(f"/api/v1/hall/tickets/{ticket_id}/{step}", json=window, headers=token(role))


async def _hall_call(county: County, role: str, allowed: bool) -> httpx.Response:
    intake = county.clients["intake"]
    if allowed:
        issued = await intake.post("/api/v1/hall/tickets", json={"township_id": "qingshui", "queue": "civil_affairs"},
                                   headers=token("staff"))
        assert issued.status_code == 201, issued.text
    return await intake.post("/api/v1/hall/calls", headers=token(role), json={
        "township_id": "qingshui", "queues": ["civil_affairs"], "window_no": f"w{next(WINDOWS)}"})


HALL_CALLS: dict[str, tuple[Call, int]] = {
    "intake.hall_issue_ticket": (lambda c, r, a: c.clients["intake"].post(
        "/api/v1/hall/tickets", json={"township_id": "qingshui", "queue": "social_security"}, headers=token(r)), 201),
    "intake.hall_call_next": (_hall_call, 200),
    "intake.hall_recall_ticket": (lambda c, r, a: _hall(c, r, a, "recall"), 200),
    "intake.hall_start_service": (lambda c, r, a: _hall(c, r, a, "start"), 200),
    "intake.hall_end_service": (lambda c, r, a: _hall(c, r, a, "end"), 200),
    "intake.hall_board": (lambda c, r, a: _get(c, "intake", "/api/v1/hall/queue", token(r), township_id="qingshui"),
                          200),
    "intake.hall_stats": (lambda c, r, a: _get(c, "intake", "/api/v1/hall/stats", token(r), township_id="qingshui",
                                               **{"from": "2026-11-01", "to": "2026-11-30"}), 200),
}
CALLS |= HALL_CALLS


async def _assign(county: County, role: str, allowed: bool) -> httpx.Response:
    """A fresh case of social security, given by hand to the colleague of its holder."""
    view = await county.take_in() if allowed else county.case
    other = "qs-social_security-01" if view["staff_id"] != "qs-social_security-01" else "qs-social_security-02"
    return await county.clients["routing"].post(f"/api/v1/cases/{view['case_id']}/assign", json={"staff_id": other},
                                                headers=token(role))


def _presence(county: County, role: str, allowed: bool) -> Awaitable[httpx.Response]:
    """A staff member (or their centre head) says they are at their post: no case changes hands."""
    me = {"staff_id": "qs-social_security-02", "department_code": "social_security"}
    return county.clients["routing"].post("/api/v1/staff/qs-social_security-02/presence", json={"status": "on_duty"},
                                          headers=token(role, holding=me))


ROSTER = "/api/v1/townships/qingshui/roster/2030-01-07"  # a week far off: nobody's duty today changes
STAFF_CALLS: dict[str, tuple[Call, int]] = {
    "routing.assign_case": (_assign, 200),
    "routing.record_staff": (lambda c, r, a: c.clients["routing"].put("/api/v1/staff/qs-civil_affairs-90", json={
        "township_id": "qingshui", "department_code": "civil_affairs", "name": "何静", "phone": "13900019990"},
        headers=token(r)), 200),
    "routing.set_presence": (_presence, 200),
    "routing.set_roster": (lambda c, r, a: c.clients["routing"].put(ROSTER, json={"days": [
        {"duty_date": "2030-01-07", "staff_ids": ["qs-social_security-01"]}]}, headers=token(r)), 200),
    "routing.read_roster": (lambda c, r, a: _get(c, "routing", ROSTER, token(r)), 200),
    "routing.presence_board": (lambda c, r, a: _get(c, "routing", "/api/v1/townships/qingshui/presence-board",
                                                    token(r)), 200),
    "routing.list_absences": (lambda c, r, a: _get(c, "routing", "/api/v1/townships/qingshui/absences", token(r)), 200),
}
CALLS |= STAFF_CALLS
async def _record_accountability(county: County, role: str) -> httpx.Response:
    """A ledger entry on the county's case, resting on its first event in the log."""
    history = await _get(county, "audit", f"/api/v1/cases/{_case(county)}/history", token("inspector"))
    evidence = history.json()["events"][0]["event_id"]
    return await county.clients["audit"].post("/api/v1/accountability", headers=token(role), json={
        "township_id": "qingshui", "case_id": _case(county), "finding": "overdue_case", "measure": "warning",
        "description": "超期未办", "evidence_event_ids": [evidence], "decided_on": "2026-11-20"})


# The inspectors' reads and records: every one of them is itself recorded in the chain.
INSPECTION_CALLS: dict[str, tuple[Call, int]] = {
    "audit.case_timeline": (lambda c, r, a: _get(c, "audit", f"/api/v1/cases/{_case(c)}/timeline", token(r)), 200),
    "audit.access_log": (lambda c, r, a: _get(c, "audit", "/api/v1/access-log", token(r)), 200),
    "audit.record_accountability": (lambda c, r, a: _record_accountability(c, r), 201),
    "audit.list_accountability": (lambda c, r, a: _get(c, "audit", "/api/v1/accountability", token(r)), 200),
    "audit.export_accountability": (lambda c, r, a: _get(c, "audit", "/api/v1/accountability/export", token(r)), 200),
    "audit.case_dossier": (lambda c, r, a: _get(c, "audit", f"/api/v1/cases/{_case(c)}/dossier.pdf", token(r)), 200),
    "audit.hall_figures": (lambda c, r, a: _get(c, "audit", "/api/v1/hall-figures", token(r), township_id="qingshui",
                                                **{"from": "2026-11-01", "to": "2026-11-30"}), 200),
}
CALLS |= INSPECTION_CALLS


async def _bad_rating(county: County) -> dict:
    """A completed case rated 1 (非常不满意) through its link, and the follow-up routing opened for it."""
    view = await county.completed_at_intake()
    link = await county.clients["intake"].post(f"/api/v1/cases/{view['case_id']}/rating-link", headers=HEAD)
    rated = await county.clients["intake"].post(link.json()["path"], json={"score": 1, "comment": "材料反复提交"})
    assert rated.status_code == 201, rated.text

    async def opened():
        resp = await county.clients["routing"].get(f"/api/v1/cases/{view['case_id']}/follow-ups", headers=HEAD)
        return resp.json()["follow_ups"] if resp.status_code == 200 else None
    [follow_up] = await eventually(opened, what="routing to open the follow-up")
    return follow_up


async def _follow_up(county: County, role: str, allowed: bool, verb: str, body: dict,
                     first: tuple[str, dict] | None = None) -> httpx.Response:
    """The role's `verb` on a fresh follow-up (staff as its owner), after the owner's `first`."""
    if not allowed:  # a refused role is refused before any read
        return await county.clients["routing"].post(f"/api/v1/cases/{_case(county)}/follow-ups/{uuid4()}/{verb}",
                                                    json=body, headers=token(role))
    follow_up = await _bad_rating(county)
    url = f"/api/v1/cases/{follow_up['case_id']}/follow-ups/{follow_up['rating_event_id']}"
    owner = auth_header("staff", "qingshui", sub=follow_up["owner_staff_id"], department_code="social_security")
    if first:
        done = await county.clients["routing"].post(f"{url}/{first[0]}", json=first[1], headers=owner)
        assert done.status_code == 200, done.text
    # Only the owner appeals: the centre head who completed the case (HEAD) owns it; another head decides.
    headers = {"staff": owner, "centre_head": HEAD if verb == "appeal" else token(role)}[role]
    return await county.clients["routing"].post(f"{url}/{verb}", json=body, headers=headers)


VISIT = {"reached": True, "means": "phone", "resident_said": "反映材料被要求重复提交", "complaint_holds": True}
RATING_APPEAL = {"ground": "about_the_law", "reason": "对政策标准本身不满"}
# The bad-rating loop (差评回访与整改): staff act on the follow-ups they own, the centre head on the township's.
FOLLOW_UP_CALLS: dict[str, tuple[Call, int]] = {
    "routing.record_follow_up_visit": (lambda c, r, a: _follow_up(c, r, a, "visit", VISIT), 200),
    "routing.record_rectification": (lambda c, r, a: _follow_up(c, r, a, "rectification", {
        "measures": "公示材料清单", "answer_to_resident": "已整改，感谢监督"}, first=("visit", VISIT)), 200),
    "routing.appeal_rating": (lambda c, r, a: _follow_up(c, r, a, "appeal", RATING_APPEAL), 200),
    "routing.decide_rating_appeal": (lambda c, r, a: _follow_up(c, r, a, "appeal-decision", {
        "upheld": False, "reason": "投诉属实"}, first=("appeal", RATING_APPEAL)), 200),
    "routing.list_follow_ups": (lambda c, r, a: _get(c, "routing", "/api/v1/follow-ups", token(r),
                                                     township_id="qingshui"), 200),
    "routing.read_case_follow_ups": (lambda c, r, a: _get(c, "routing", f"/api/v1/cases/{_case(c)}/follow-ups",
                                                          token(r)), 200),
}
CALLS |= FOLLOW_UP_CALLS
# The bad-rating ledger and its figures (ADR 37).
BAD_RATING_CALLS: dict[str, tuple[Call, int]] = {
    "audit.inspect_bad_ratings": (lambda c, r, a: _get(c, "audit", "/api/v1/inspections/bad-ratings", token(r),
                                                       township_id="qingshui"), 200),
    "audit.inspect_bad_rating_figures": (lambda c, r, a: _get(c, "audit", "/api/v1/inspections/bad-ratings/figures",
                                                              token(r), township_id="qingshui"), 200),
}
CALLS |= BAD_RATING_CALLS
# The rated side asking to rate gets its own code: they may never rate on a resident's behalf.
REFUSED_WITH = {("intake.rate_case", "staff"): "STAFF_CANNOT_RATE", ("intake.rate_case", "centre_head"): "STAFF_CANNOT_RATE"}
REFUSED_WITH |= {("intake.rate_case_again", "staff"): "STAFF_CANNOT_RATE",
                 ("intake.rate_case_again", "centre_head"): "STAFF_CANNOT_RATE"}


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
        assert (resp.status_code, resp.json()["code"]) == (403, REFUSED_WITH.get((action, role), "ROLE_FORBIDDEN")), \
            resp.text
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


# What anyone may read (the catalogue, the hall's board); the resident's own pages hold their credential in the
# path or a header, and test_ratings_integration calls them without a token.
@pytest.mark.parametrize("action", [a for a, (endpoint, roles) in POLICY.items() if set(roles.values()) == {PUBLIC}
                                    and " GET " in endpoint and "{token}" not in endpoint and "{case_no}" not in endpoint])
async def test_public_actions_answer_without_a_token(county, action):
    endpoint, _ = POLICY[action]
    service, _, path = endpoint.split(" ")
    params = {"township_id": "qingshui"} if action == "intake.hall_board" else None
    path = path.replace("{item_code}", "SB-002").replace("{township_id}", "qingshui")
    resp = await county.clients[service].get(path, params=params)
    assert resp.status_code == 200, resp.text
