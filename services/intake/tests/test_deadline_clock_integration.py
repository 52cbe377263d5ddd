"""A deadline on the provisional calendar, a joint case's departments, and routing's deadline clock followed
into intake's case view and the status page, on real PostgreSQL and Kafka."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import (
    CaseSubmitted,
    ClockPaused,
    ClockPausedPayload,
    ClockResumed,
    ClockResumedPayload,
    DeadlineBreached,
    DeadlineBreachedPayload,
    DeadlineExtended,
    DeadlineExtendedPayload,
    DeadlineRecalculated,
    DeadlineRecalculatedPayload,
)
from contracts.workdays import PROVISIONAL_MARK, SHANGHAI
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.intake.tests.document_events import pdf_text
from services.kit.testing import (
    auth_header,
    client_from,
    consume_until,
    eventually,
    publish_events,
    running_app,
    start_group_at_end,
)

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="qs-general_window-01")
PHONE = {"X-Applicant-Phone": "13800138000"}
# Thursday 24 December 2026, 10:00 in Shanghai: ten working days reach into 2027, which chinese_calendar
# does not know yet, so the deadline rests on the provisional calendar.
CHRISTMAS_EVE = datetime(2026, 12, 24, 2, tzinfo=UTC)
ADDRESSES = iter(f"198.51.100.{n}" for n in range(1, 250))


@pytest.fixture(scope="module")
async def intake(infra, make_database, tmp_path_factory):
    clock_file = tmp_path_factory.mktemp("clock") / "offset"
    clock_file.write_text("0")
    suffix = f"-dc-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(DATABASE_URL=await make_database("it_deadline_clock"),
                              KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix,
                              BIANMIN_CLOCK_FILE=str(clock_file), status_limit_per_case=50)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app, clock_file


async def _submitted_on_kafka(infra, case_id: str) -> dict:
    record = await consume_until(infra.kafka_bootstrap, CaseSubmitted.TOPIC, lambda r: r.key == case_id.encode()
                                 and dict(r.headers)["event_type"] == b"CaseSubmitted")
    return json.loads(record.value)["payload"]


async def _status(app, case: dict) -> dict:
    async with client_from(app, next(ADDRESSES)) as resident:
        shown = await resident.get(f"/api/v1/cases/{case['case_no']}/status", headers=PHONE)
    assert shown.status_code == 200, shown.text
    return shown.json()


def _routing(cls, case: dict, version: int, payload):
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="routing",
               case_id=UUID(case["case_id"]), stream_version=version, township_id="qingshui",
               actor=Actor(kind="staff", id="qs-social_security-01"), correlation_id=UUID(case["case_id"]),
               payload=payload)


async def test_a_deadline_reaching_a_provisional_year_is_marked_everywhere(intake, infra):
    client, app, clock_file = intake
    clock_file.write_text(str((CHRISTMAS_EVE - datetime.now(UTC)).total_seconds()))
    try:
        resp = await client.post("/api/v1/cases", json=case_body(), headers=STAFF)
    finally:
        clock_file.write_text("0")
    assert resp.status_code == 201, resp.text
    case = resp.json()
    # SB-002: 10 working days; 1 January 2027 is a statutory holiday on the provisional calendar too.
    assert datetime.fromisoformat(case["promised_deadline"]).astimezone(SHANGHAI).date().isoformat() == "2027-01-08"
    assert case["deadline_provisional"] and case["tolerated_due_provisional"]

    payload = await _submitted_on_kafka(infra, case["case_id"])
    assert (payload["deadline_provisional"], payload["legal_limit_days"], payload["joint_department_codes"]) == (
        True, 20, [])

    view = (await client.get(f"/api/v1/cases/{case['case_id']}", headers=STAFF)).json()
    [photo] = view["owed"]
    assert view["deadline_provisional"] and photo["due_provisional"]

    status = await _status(app, case)
    assert status["deadline_provisional"] and PROVISIONAL_MARK in status["deadline_text"]
    assert PROVISIONAL_MARK in status["summary"]
    assert PROVISIONAL_MARK in status["owed_materials"][0]["due_text"]

    receipt = await client.get(f"/api/v1/cases/{case['case_id']}/documents/receipt.pdf", headers=STAFF)
    assert receipt.status_code == 200
    assert "暂定" in pdf_text(receipt.content)


async def test_a_deadline_within_the_official_year_is_not_marked(intake, infra):
    client, app, _ = intake
    case = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()
    deadline = datetime.fromisoformat(case["promised_deadline"]).astimezone(SHANGHAI)
    assert deadline.year == 2026 and not case["deadline_provisional"]
    assert (await _submitted_on_kafka(infra, case["case_id"]))["deadline_provisional"] is False
    status = await _status(app, case)
    assert not status["deadline_provisional"] and PROVISIONAL_MARK not in status["summary"]


async def test_a_joint_case_names_the_departments_deciding_with_it(intake, infra):
    client, _, _ = intake
    body = case_body(item_code="NY-005", materials=["id_card", "hukou", "site_plan", "neighbour_consent"])
    resp = await client.post("/api/v1/cases", json=body, headers=STAFF)
    assert resp.status_code == 201, resp.text
    payload = await _submitted_on_kafka(infra, resp.json()["case_id"])
    assert (payload["kind"], payload["department_code"], payload["joint_department_codes"]) == (
        "joint", "natural_resources", ["agriculture"])
    assert payload["legal_limit_days"] == 20


async def test_routing_clock_events_move_the_shown_deadline_and_pause(intake, infra):
    client, app, _ = intake
    case = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()
    promised = datetime.fromisoformat(case["promised_deadline"])
    url = f"/api/v1/cases/{case['case_id']}"

    async def view_where(check, what: str) -> dict:
        async def probe():
            view = (await client.get(url, headers=STAFF)).json()
            return view if check(view) else None
        return await eventually(probe, what=what)

    note = "申请人申请听证，定于12月3日举行"
    await publish_events(infra.kafka_bootstrap, _routing(ClockPaused, case, 2, ClockPausedPayload(
        reason="hearing", note=note)))
    paused = await view_where(lambda v: v["clock_paused_reason"] == "hearing", "intake to apply ClockPaused")
    assert paused["clock_paused_note"] == note and paused["clock_paused_at"]
    status = await _status(app, case)
    assert status["clock_paused"] and "暂停计时" in status["pause_text"] and "听证" in status["pause_text"]
    assert note in status["pause_text"] and "暂停计时" in status["summary"]

    resumed_at = promised + timedelta(days=3)
    await publish_events(infra.kafka_bootstrap, _routing(ClockResumed, case, 3, ClockResumedPayload(
        paused_working_days=3, promised_deadline=resumed_at, deadline_provisional=False)))
    resumed = await view_where(lambda v: v["clock_paused_reason"] is None, "intake to apply ClockResumed")
    assert datetime.fromisoformat(resumed["promised_deadline"]) == resumed_at
    assert not (await _status(app, case))["clock_paused"]

    extended_to = resumed_at + timedelta(days=14)
    await publish_events(infra.kafka_bootstrap, _routing(DeadlineExtended, case, 4, DeadlineExtendedPayload(
        extension_working_days=10, reason="需现场踏勘，二十日内不能作出决定", approved_by="qs-head",
        promised_deadline=extended_to, deadline_provisional=True)))
    extended = await view_where(lambda v: v["deadline_provisional"], "intake to apply DeadlineExtended")
    assert datetime.fromisoformat(extended["promised_deadline"]) == extended_to
    assert PROVISIONAL_MARK in (await _status(app, case))["deadline_text"]

    recounted_to = extended_to + timedelta(days=2)
    await publish_events(infra.kafka_bootstrap, _routing(DeadlineRecalculated, case, 5, DeadlineRecalculatedPayload(
        previous_deadline=extended_to, promised_deadline=recounted_to, deadline_provisional=False,
        calendar_years=[2027])))
    recounted = await view_where(lambda v: not v["deadline_provisional"], "intake to apply DeadlineRecalculated")
    assert datetime.fromisoformat(recounted["promised_deadline"]) == recounted_to
    status = await _status(app, case)
    assert status["promised_on"] == recounted_to.astimezone(SHANGHAI).date().isoformat()
    assert PROVISIONAL_MARK not in status["summary"]

    # A late redelivery of an older version changes nothing; the breach after it shows it was passed over.
    await publish_events(infra.kafka_bootstrap, _routing(ClockPaused, case, 2, ClockPausedPayload(
        reason="testing", note="旧事件")), _routing(DeadlineBreached, case, 6, DeadlineBreachedPayload(
            department_code="social_security", promised_deadline=recounted_to, detected_at=datetime.now(UTC),
            case_no=case["case_no"], subject="城乡居民养老保险参保登记")))
    breached = await view_where(lambda v: v["overdue"], "intake to apply DeadlineBreached")
    assert breached["clock_paused_reason"] is None
    assert datetime.fromisoformat(breached["promised_deadline"]) == recounted_to
