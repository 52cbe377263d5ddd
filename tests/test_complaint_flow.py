"""A complaint across intake and routing on real Kafka and PostgreSQL: registered at the window, held by
routing from intake's event, answered there, and the answer followed back at intake."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end
from services.routing.app import create_app as routing_app
from services.routing.settings import RoutingSettings

pytestmark = pytest.mark.integration
WINDOW = auth_header("staff", "qingshui", sub="qs-general_window-01")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")
ACCUSED = auth_header("staff", "qingshui", sub="qs-social_security-01", department_code="social_security")
COLLEAGUE = auth_header("staff", "qingshui", sub="qs-social_security-02", department_code="social_security")


@pytest.fixture(scope="module")
async def county(infra, make_database):
    dsn, suffix = await make_database("it_complaint_flow"), f"-cf-{uuid4().hex[:6]}"
    for name in ("intake", "routing"):
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
    common = dict(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    async with running_app(intake_app(IntakeSettings(**common))) as intake, \
            running_app(routing_app(RoutingSettings(**common))) as routing:
        yield intake, routing


async def test_a_complaint_registered_at_the_window_is_answered_in_routing_and_shown_at_the_window(county):
    intake, routing = county
    body = {"township_id": "qingshui", "kind": "complaint", "subject": "社保窗口态度差", "content": "办理时被呵斥",
            "department_code": "social_security", "about_staff_id": "qs-social_security-01",
            "complainant_name": "赵六", "complainant_phone": "13700137000"}
    created = await intake.post("/api/v1/complaints", json=body, headers=WINDOW)
    assert created.status_code == 201, created.text
    complaint_id = created.json()["complaint_id"]

    async def held():
        resp = await routing.get("/api/v1/complaints", headers=HEAD)
        return next((c for c in resp.json()["complaints"] if c["complaint_id"] == complaint_id), None)

    listed = await eventually(held, what="routing to hold the complaint from intake's event")
    assert (listed["complaint_no"], listed["answer_due"]) == (created.json()["complaint_no"], created.json()["answer_due"])
    assert listed["complainant_name"] == "赵六" and "phone" not in str(listed)

    url = f"/api/v1/complaints/{complaint_id}/answer"
    answer = {"answer": "经调查属实，已对当事人批评教育", "upheld": True}
    assert (await routing.post(url, json=answer, headers=ACCUSED)).json()["code"] == "COMPLAINT_ABOUT_ANSWERER"
    answered = await routing.post(url, json=answer, headers=COLLEAGUE)
    assert answered.status_code == 200, answered.text

    async def shown():
        view = (await intake.get(f"/api/v1/complaints/{complaint_id}", headers=WINDOW)).json()
        return view if view["status"] == "answered" else None

    view = await eventually(shown, what="intake to follow routing's answer")
    assert (view["upheld"], view["on_time"], view["overdue"]) == (True, True, False)
