"""The deadline clock, escalation, joint shares, the workbench and every alert, against real Kafka and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import (
    CaseCompleted,
    CaseSubmitted,
    ClockPaused,
    ClockResumed,
    ComplaintRegistered,
    ComplaintRegisteredPayload,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineRecalculated,
    DeadlineWarning,
    JointTaskDone,
    MaterialsSupplied,
    MaterialsSuppliedPayload,
    NoticeMaterial,
    ToleratedMaterialDue,
    ToleratedMaterialDuePayload,
)
from contracts.workdays import SHANGHAI, WorkingCalendar, default_calendar
from services.kit.testing import FixedClock, auth_header, eventually, running_app, start_group_at_end
from services.routing import casework_routes, commands
from services.routing.alerts import BREACH_AFTER, AlertPolicy
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.tests import probes
from services.routing.tests.builders import case_submitted
from services.routing.tests.probes import group_of, publish

pytestmark = pytest.mark.integration
CAL = default_calendar()
STAFF = auth_header("staff", "qingshui", sub="qs-social_security-09", department_code="social_security")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")
# Monday 7 December 2026, 10:00 in Shanghai: a plain working week ahead.
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
SINCE = datetime.now(UTC) - timedelta(minutes=1)  # Kafka stamps records by the wall clock, not the test's


async def wait_for_events(bootstrap: str, cls, case, *, count: int = 1):
    return await probes.wait_for_events(bootstrap, cls, case, count=count, since=SINCE)


@pytest.fixture(scope="module")
async def routing(infra, make_database):
    settings = RoutingSettings(DATABASE_URL=await make_database("it_routing_casework"),
                               KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                               BIANMIN_CONSUMER_GROUP_SUFFIX=f"-it-{uuid4().hex[:8]}", deadline_scan_seconds=0.2,
                               warning_days_by_township={"baishi": 2})
    await start_group_at_end(infra.kafka_bootstrap, group_of(settings), [CaseSubmitted.TOPIC])
    app = create_app(settings)
    clock = FixedClock(MONDAY)
    app.state.runtime.clock = clock
    async with running_app(app) as client:
        yield client, app.state.runtime, clock


async def _open(client, bootstrap, clock, **payload) -> tuple[CaseSubmitted, dict]:
    """A case accepted now by the test's clock with 5 working days (legal 20) unless told otherwise."""
    fields = {"promised_limit_days": 5, "legal_limit_days": 20, **payload}
    submitted = case_submitted(at=clock.now(), deadline=CAL.deadline_for(clock.now(), fields["promised_limit_days"]),
                               **fields)
    await publish(bootstrap, submitted)

    async def probe():
        resp = await client.get(f"/api/v1/cases/{submitted.case_id}", headers=HEAD)
        return resp.json() if resp.status_code == 200 else None

    return submitted, await eventually(probe, what=f"routing to assign {submitted.case_id}")


async def _timers(runtime, case_id) -> dict[tuple[str, str], tuple[datetime, datetime | None]]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM deadline_timers WHERE case_id = $1", case_id)
    return {(r["deadline_key"], r["kind"]): (r["due_at"], r["fired_at"]) for r in rows}


async def _events(runtime, case_id) -> list[str]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT event_type FROM events WHERE case_id = $1 ORDER BY stream_version", case_id)
    return [r["event_type"] for r in rows]


async def test_pause_resume_and_one_extension_move_the_deadline_and_its_timers(routing, infra):
    client, runtime, clock = routing
    clock.at = MONDAY
    submitted, view = await _open(client, infra.kafka_bootstrap, clock)
    due = datetime.fromisoformat(view["promised_deadline"])
    assert due == CAL.deadline_for(MONDAY, 5)
    timers = await _timers(runtime, submitted.case_id)
    assert set(timers) == {("case", "warning"), ("case", "breach")} and timers[("case", "breach")][0] == due + BREACH_AFTER

    url = f"/api/v1/cases/{submitted.case_id}"
    paused = await client.post(f"{url}/pause", json={"reason": "hearing", "note": "申请人申请听证"}, headers=STAFF)
    assert paused.status_code == 200 and paused.json()["paused"] is True, paused.text
    assert await _timers(runtime, submitted.case_id) == {}  # a standing clock warns nobody
    again = await client.post(f"{url}/pause", json={"reason": "testing", "note": "检测"}, headers=STAFF)
    assert again.status_code == 409 and again.json()["code"] == "CLOCK_ALREADY_PAUSED"

    clock.at = MONDAY + timedelta(days=2)  # Wednesday: Tuesday and Wednesday stood
    resumed = await client.post(f"{url}/resume", headers=STAFF)
    assert resumed.status_code == 200, resumed.text
    moved = datetime.fromisoformat(resumed.json()["promised_deadline"])
    assert moved == CAL.deadline_for(MONDAY, 7) and resumed.json()["paused_working_days"] == 2
    assert (await _timers(runtime, submitted.case_id))[("case", "breach")][0] == moved + BREACH_AFTER

    refused = await client.post(f"{url}/extension", json={"days": 5, "reason": "需现场核查"}, headers=STAFF)
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_FORBIDDEN"
    past = await client.post(f"{url}/extension", json={"days": 16, "reason": "太长"}, headers=HEAD)
    assert past.status_code == 422 and past.json()["code"] == "EXTENSION_PAST_LEGAL_LIMIT"
    assert past.json()["details"]["most_days"] == 15
    extended = await client.post(f"{url}/extension", json={"days": 15, "reason": "需现场核查"}, headers=HEAD)
    assert extended.status_code == 200 and extended.json()["extension_days"] == 15
    assert datetime.fromisoformat(extended.json()["promised_deadline"]) == CAL.deadline_for(MONDAY, 22)
    second = await client.post(f"{url}/extension", json={"days": 1, "reason": "再延"}, headers=HEAD)
    assert second.status_code == 409 and second.json()["code"] == "EXTENSION_ALREADY_GRANTED"

    await wait_for_events(infra.kafka_bootstrap, DeadlineExtended, submitted)
    [(ext, _)] = await wait_for_events(infra.kafka_bootstrap, DeadlineExtended, submitted)
    assert ext["payload"]["approved_by"] == "qs-head" and ext["payload"]["extension_working_days"] == 15
    for cls in (ClockPaused, ClockResumed):
        await wait_for_events(infra.kafka_bootstrap, cls, submitted)
    assert await _events(runtime, submitted.case_id) == [
        "CaseAssigned", "ClockPaused", "ClockResumed", "DeadlineExtended"]


async def test_a_warning_then_a_breach_each_once_and_a_completion_stops_the_rest(routing, infra):
    client, runtime, clock = routing
    clock.at = MONDAY
    submitted, view = await _open(client, infra.kafka_bootstrap, clock, promised_limit_days=3)
    due = datetime.fromisoformat(view["promised_deadline"])  # Thursday's end
    warning_at = (await _timers(runtime, submitted.case_id))[("case", "warning")][0]
    assert warning_at == datetime(2026, 12, 10, 8, 0, tzinfo=SHANGHAI)  # the last day's morning

    clock.at = warning_at + timedelta(minutes=1)
    [(warned, _)] = await wait_for_events(infra.kafka_bootstrap, DeadlineWarning, submitted)
    assert (warned["payload"]["deadline_key"], warned["payload"]["case_no"]) == ("case", submitted.payload.case_no)
    bench = (await client.get("/api/v1/workbench", headers=HEAD)).json()
    mine = next(c for c in bench["cases"] if c["case_id"] == str(submitted.case_id))
    assert mine["light"] == "yellow" and mine["working_days_left"] == 1

    clock.at = due + timedelta(minutes=1)
    [(breached, _)] = await wait_for_events(infra.kafka_bootstrap, DeadlineBreached, submitted)
    assert breached["payload"]["staff_id"] == view["staff_id"]
    scanner = runtime.deps.deadline_scanner
    scans = scanner.scans
    await eventually(lambda: _more(scanner, scans + 3), what="three more scans")
    assert (await _events(runtime, submitted.case_id)).count("DeadlineBreached") == 1
    bench = (await client.get("/api/v1/workbench", headers=HEAD)).json()
    assert bench["cases"][0]["light"] == "red" and bench["counts"]["red"] >= 1  # the most urgent first
    late = await client.post(f"/api/v1/cases/{submitted.case_id}/pause", json={"reason": "materials", "note": "补正"},
                             headers=STAFF)
    assert late.status_code == 409 and late.json()["code"] == "DEADLINE_PASSED"
    done = await client.post(f"/api/v1/cases/{submitted.case_id}/complete", json={"result": "refused", "note": "不符合"},
                             headers=STAFF)
    assert done.status_code == 200 and done.json()["on_time"] is False
    [(completed, _)] = await wait_for_events(infra.kafka_bootstrap, CaseCompleted, submitted)
    assert "行政复议" in completed["payload"]["appeal_rights"]
    assert all(fired for _, fired in (await _timers(runtime, submitted.case_id)).values())


async def _more(scanner, target: int) -> bool:
    return scanner.scans >= target


async def test_a_case_completed_in_time_is_never_breached(routing, infra):
    client, runtime, clock = routing
    clock.at = MONDAY
    submitted, view = await _open(client, infra.kafka_bootstrap, clock, promised_limit_days=1)
    done = await client.post(f"/api/v1/cases/{submitted.case_id}/complete", json={"result": "granted"}, headers=STAFF)
    assert done.status_code == 200 and done.json()["on_time"] is True
    assert await _timers(runtime, submitted.case_id) == {}
    clock.at = MONDAY + timedelta(days=10)
    scans = runtime.deps.deadline_scanner.scans
    await eventually(lambda: _more(runtime.deps.deadline_scanner, scans + 3), what="three more scans")
    assert "DeadlineBreached" not in await _events(runtime, submitted.case_id)


async def test_a_tolerated_material_has_its_own_deadline_until_it_is_brought(routing, infra):
    client, runtime, clock = routing
    clock.at = MONDAY
    submitted, _ = await _open(client, infra.kafka_bootstrap, clock, materials_tolerated_missing=["bank_card", "photo"])
    owed = _intake_event(submitted, ToleratedMaterialDue, 2, ToleratedMaterialDuePayload(
        materials=[NoticeMaterial(code="bank_card", name="银行卡", problem="missing"),
                   NoticeMaterial(code="photo", name="照片", problem="missing")],
        due=CAL.deadline_for(MONDAY, 2)))
    brought = _intake_event(submitted, MaterialsSupplied, 3, MaterialsSuppliedPayload(
        materials=["photo"], still_owed=["bank_card"], complete=True))
    await publish(infra.kafka_bootstrap, owed, brought)

    async def settled():
        timers = await _timers(runtime, submitted.case_id)
        return timers if ("material:bank_card", "breach") in timers and not any(
            k.startswith("material:photo") for k, _ in timers) else None

    await eventually(settled, what="the bank card's timers, and none for the photo brought")
    clock.at = CAL.deadline_for(MONDAY, 2) + timedelta(minutes=1)
    found = await wait_for_events(infra.kafka_bootstrap, DeadlineBreached, submitted)
    assert [b["payload"]["deadline_key"] for b, _ in found] == ["material:bank_card"]
    assert found[0][0]["payload"]["deadline_kind"] == "tolerated_material" and found[0][0]["payload"]["subject"] == "银行卡"
    view = (await client.get(f"/api/v1/cases/{submitted.case_id}", headers=HEAD)).json()
    assert view["breached_at"] is None  # the case itself is not late


async def test_a_complaint_unanswered_past_its_due_is_breached_once(routing, infra):
    _, runtime, clock = routing
    clock.at = MONDAY
    complaint_id = new_event_id()
    registered = ComplaintRegistered(
        event_id=new_event_id(), occurred_at=MONDAY, source="intake", case_id=complaint_id, stream_version=1,
        township_id="qingshui", actor=Actor(kind="staff", id="qs-general_window-01"), correlation_id=complaint_id,
        schema_version="1.0", payload=ComplaintRegisteredPayload(
            complaint_no="QS-T-20261207-0001", complaint_kind="complaint", subject="窗口无人", content="上午无人办理",
            department_code="social_security", anonymous=False, answer_due=CAL.deadline_for(MONDAY, 3)))
    await publish(infra.kafka_bootstrap, registered)
    await eventually(lambda: _timers(runtime, complaint_id), what="the complaint's timers")
    clock.at = CAL.deadline_for(MONDAY, 3) + timedelta(minutes=1)
    [(breached, _)] = await wait_for_events(infra.kafka_bootstrap, DeadlineBreached, registered)
    assert (breached["payload"]["deadline_kind"], breached["payload"]["case_no"]) == ("complaint", "QS-T-20261207-0001")
    assert breached["payload"]["staff_id"] is None and breached["source"] == "routing"


def _intake_event(case: CaseSubmitted, cls, version: int, payload):
    return cls(event_id=new_event_id(), occurred_at=case.occurred_at, source="intake", case_id=case.case_id,
               stream_version=version, township_id=case.township_id, actor=case.actor, correlation_id=case.case_id,
               schema_version="1.0", payload=payload)


async def test_escalated_case_waits_for_the_county_answer(routing, infra):
    client, _, clock = routing
    clock.at = MONDAY
    submitted, _ = await _open(client, infra.kafka_bootstrap, clock, kind="escalated")
    url = f"/api/v1/cases/{submitted.case_id}"
    sent = await client.post(f"{url}/escalation", headers=STAFF, json={
        "county_department": "县人社局", "sent_materials": ["id_card", "hukou", "id_card"], "note": "初审通过"})
    assert sent.status_code == 200 and sent.json()["escalated_to"] == "县人社局", sent.text
    early = await client.post(f"{url}/complete", json={"result": "granted"}, headers=STAFF)
    assert early.status_code == 409 and early.json()["code"] == "ESCALATION_UNANSWERED"
    bad = await client.post(f"{url}/escalation/answer", json={"result": "maybe", "answer": "同意"}, headers=STAFF)
    assert bad.status_code == 422
    county = auth_header("admin", None, sub="county-system")
    answered = await client.post(f"{url}/escalation/answer", json={"result": "granted", "answer": "同意",
                                                                    "reference": "县人社〔2026〕12号"}, headers=county)
    assert answered.status_code == 200, answered.text
    twice = await client.post(f"{url}/escalation/answer", json={"result": "granted", "answer": "同意"}, headers=STAFF)
    assert twice.status_code == 409 and twice.json()["code"] == "ESCALATION_ALREADY_ANSWERED"
    assert (await client.post(f"{url}/complete", json={"result": "granted"}, headers=STAFF)).status_code == 200


async def test_a_joint_case_completes_when_every_department_has_given_its_opinion(routing, infra):
    client, runtime, clock = routing
    clock.at = MONDAY
    submitted, view = await _open(client, infra.kafka_bootstrap, clock, kind="joint",
                                  joint_department_codes=["civil_affairs"])
    url = f"/api/v1/cases/{submitted.case_id}"
    direct = await client.post(f"{url}/complete", json={"result": "granted"}, headers=STAFF)
    assert direct.status_code == 409 and direct.json()["code"] == "JOINT_CASE_COMPLETES_BY_SHARES"
    civil = auth_header("staff", "qingshui", sub="qs-civil_affairs-09", department_code="civil_affairs")
    not_theirs = await client.post(f"{url}/shares/social_security", json={"result": "granted"}, headers=civil)
    assert not_theirs.status_code == 403
    clock.at = MONDAY + timedelta(days=1)
    first = await client.post(f"{url}/shares/civil_affairs", json={"result": "granted", "note": "符合"}, headers=civil)
    assert first.status_code == 200 and first.json()["status"] == "assigned", first.text
    twice = await client.post(f"{url}/shares/civil_affairs", json={"result": "granted"}, headers=civil)
    assert twice.status_code == 409 and twice.json()["code"] == "JOINT_SHARE_ALREADY_DONE"
    clock.at = MONDAY + timedelta(days=2)
    last = await client.post(f"{url}/shares/social_security", json={"result": "granted", "note": "同意"}, headers=STAFF)
    assert last.status_code == 200 and last.json()["status"] == "completed" and last.json()["on_time"] is True
    shares = await wait_for_events(infra.kafka_bootstrap, JointTaskDone, submitted, count=2)
    assert sorted((b["payload"]["department_code"], b["payload"]["working_days"]) for b, _ in shares) == [
        ("civil_affairs", 1), ("social_security", 2)]
    await wait_for_events(infra.kafka_bootstrap, CaseCompleted, submitted)


async def test_the_workbench_shows_staff_their_own_and_the_head_the_township(routing, infra):
    client, _, clock = routing
    clock.at = MONDAY
    await _open(client, infra.kafka_bootstrap, clock, promised_limit_days=8)
    submitted, view = await _open(client, infra.kafka_bootstrap, clock)
    holder = auth_header("staff", "qingshui", sub=view["staff_id"], department_code="social_security")
    mine = (await client.get("/api/v1/workbench", headers=holder)).json()
    assert mine["staff_id"] == view["staff_id"] and mine["cases"]
    assert {c["staff_id"] for c in mine["cases"]} == {view["staff_id"]}
    assert str(submitted.case_id) in [c["case_id"] for c in mine["cases"]]
    lights = [c["light"] for c in mine["cases"]]
    assert lights == sorted(lights, key=["red", "yellow", "green"].index)
    head = (await client.get("/api/v1/workbench", headers=HEAD)).json()
    assert head["staff_id"] is None and len(head["cases"]) >= len(mine["cases"])
    assert head["total"] == len(head["cases"]) and head["truncated"] is False
    with pytest.MonkeyPatch.context() as mp:  # a township with more open cases than a page lists the most urgent
        mp.setattr(casework_routes, "WORKBENCH_LIMIT", 1)
        top = (await client.get("/api/v1/workbench", headers=HEAD)).json()
    assert top["truncated"] is True and top["total"] == head["total"]
    [first] = top["cases"]  # the most urgent kind of case leads
    assert first["light"] == head["cases"][0]["light"] and first["case_id"] in [c["case_id"] for c in head["cases"]]
    other = await client.get("/api/v1/workbench", headers=HEAD, params={"township_id": "baishi"})
    assert other.status_code == 403


async def test_provisional_deadlines_are_recounted_once_the_official_schedule_is_added(routing, infra, tmp_path):
    client, runtime, clock = routing
    clock.at = datetime(2026, 12, 14, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
    counted = CAL.deadline_for(clock.now(), 20)  # reaches January 2027, a provisional year
    assert CAL.is_provisional(2027) and counted == datetime(2027, 1, 12, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    submitted, view = await _open(client, infra.kafka_bootstrap, clock, promised_limit_days=20,
                                  deadline_provisional=True)
    assert view["deadline_provisional"] is True
    assert await commands.recount_provisional(runtime.pool, clock, runtime.deps.alert_policy) == 0  # nothing new

    (tmp_path / "2027.json").write_text(json.dumps({"year": 2027, "holidays": {
        "2027-01-01": "元旦", "2027-01-04": "元旦"}, "workdays": {}}), encoding="utf-8")
    official = AlertPolicy(WorkingCalendar(overrides_dir=tmp_path))
    assert await commands.recount_provisional(runtime.pool, clock, official) >= 1
    after = (await client.get(f"/api/v1/cases/{submitted.case_id}", headers=HEAD)).json()
    moved = datetime(2027, 1, 13, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(after["promised_deadline"]) == moved and after["deadline_provisional"] is False
    assert (await _timers(runtime, submitted.case_id))[("case", "breach")][0] == moved + BREACH_AFTER
    [(event, _)] = await wait_for_events(infra.kafka_bootstrap, DeadlineRecalculated, submitted)
    assert datetime.fromisoformat(event["payload"]["previous_deadline"]) == counted
    assert event["payload"]["calendar_years"] == [2026, 2027]
    assert await commands.recount_provisional(runtime.pool, clock, official) == 0  # once is enough
