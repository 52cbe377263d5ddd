"""Who is there against real PostgreSQL and Kafka: staff records and contacts, presence with handover and return,
rosters and market days, the public presence board, absences, and the centre head's assignment by hand."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer

from contracts.contacts import parse_staff_contact
from contracts.envelope import Actor
from contracts.events import CaseSubmitted
from contracts.staff_events import roster_stream_id, staff_stream_id
from contracts.topics import ROUTING_CASES, ROUTING_STAFF, ROUTING_STAFF_CONTACTS
from contracts.workdays import SHANGHAI, default_calendar
from services.kit.db import apply_migrations, create_pool
from services.kit.kafka_security import kafka_client_options
from services.kit.testing import (
    FixedClock,
    auth_header,
    eventually,
    running_app,
    start_group_at_end,
    topic_partitions,
)
from services.routing import staff_commands
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.staff import StaffRecord
from services.routing.staff_file import load_staff_file
from services.routing.tests.builders import case_submitted
from services.routing.tests.probes import group_of, publish, read_topic

pytestmark = pytest.mark.integration
MORNING = datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI).astimezone(UTC)  # a Tuesday, in duty hours
TODAY = MORNING.astimezone(SHANGHAI).date()
ADMIN = auth_header("admin", None, sub="county-it")
HX_HEAD = auth_header("centre_head", "hexi", sub="hx-head")
QS_HEAD = auth_header("centre_head", "qingshui", sub="qs-head")


def as_staff(staff_id: str, township: str = "hexi") -> dict[str, str]:
    return auth_header("staff", township, sub=staff_id, department_code=staff_id.split("-")[1])


@pytest.fixture(scope="module")
async def routing(infra, make_database):
    suffix = f"-staff-{uuid4().hex[:8]}"
    settings = RoutingSettings(DATABASE_URL=await make_database("it_staff"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                               BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, absence_scan_seconds=3600,
                               staff_contact_publish_interval=0.2)
    await start_group_at_end(infra.kafka_bootstrap, group_of(settings), [CaseSubmitted.TOPIC])
    started = datetime.now(UTC) - timedelta(seconds=5)
    app = create_app(settings)
    app.state.runtime.clock = FixedClock(MORNING)
    async with running_app(app) as client:
        yield client, app.state.runtime, started


async def _events(runtime, stream, event_type: str) -> list[dict]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT body FROM events WHERE case_id = $1 AND event_type = $2 ORDER BY stream_version",
                                stream, event_type)
    return [json.loads(r["body"]) for r in rows]


async def _staff_records(bootstrap: str, staff_id: str, count: int, since: datetime) -> list[tuple[str, object]]:
    """The first `count` records of one staff member on the staff-contacts topic since `since`, tombstones as None."""
    partitions = await topic_partitions(bootstrap, [ROUTING_STAFF_CONTACTS])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_client_options(), enable_auto_commit=False)
    await consumer.start()
    found: list[tuple[str, object]] = []
    try:
        consumer.assign(partitions)  # no group to join: seek straight to `since`
        starts = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp].offset if starts[tp] else ends[tp])

        async def probe():
            batch = await consumer.getmany(timeout_ms=500)
            found.extend(parse_staff_contact(r.key, r.value) for records in batch.values() for r in records
                         if r.key == staff_id.encode())
            return len(found) >= count
        await eventually(probe, what=f"{count} contact records of {staff_id}")
        return found
    finally:
        await consumer.stop()


async def _case_in(client, bootstrap, **kw) -> tuple[CaseSubmitted, dict]:
    submitted = case_submitted(**kw)
    await publish(bootstrap, submitted)

    async def routed():
        resp = await client.get(f"/api/v1/cases/{submitted.case_id}", headers=HX_HEAD)
        return resp.json() if resp.status_code == 200 else None
    return submitted, await eventually(routed, what=f"routing to assign {submitted.case_id}")


async def _case(client, case_id) -> dict:
    return (await client.get(f"/api/v1/cases/{case_id}", headers=HX_HEAD)).json()


def _away(until_hour: int, reason: str = "village_visit", note: str = "和平社区入户核查") -> dict:
    until = datetime(TODAY.year, TODAY.month, TODAY.day, until_hour, tzinfo=SHANGHAI).astimezone(UTC)
    return {"status": "away", "reason": reason, "away_until": until.isoformat(), "note": note}


async def test_the_seed_file_is_recorded_once_and_each_contact_reaches_kafka(routing, infra):
    client, runtime, started = routing
    [recorded] = await _events(runtime, staff_stream_id("qs-social_security-02"), "StaffRecorded")
    assert recorded["payload"]["skills"] == ["YB-001", "YB-002"] and recorded["township_id"] == "qingshui"
    assert recorded["actor"] == {"kind": "system", "id": "routing"}
    again = await staff_commands.seed_staff_file(runtime.pool, runtime.clock, load_staff_file())
    assert again == 0  # unchanged staff: no event, no contact
    assert len(await _events(runtime, staff_stream_id("qs-social_security-02"), "StaffRecorded")) == 1
    # Other routing instances of this test run publish the demo staff too: every record of qs-head says the same.
    for staff_id, contact in await _staff_records(infra.kafka_bootstrap, "qs-head", 1, started):
        assert staff_id == "qs-head" and contact.role == "centre_head" and contact.phone.startswith("+86139000")
    # A village agent's number reaches notify the same way, so a resident without a mobile is texted through them.
    for _, contact in await _staff_records(infra.kafka_bootstrap, "hx-agent-xinhe", 1, started):
        assert (contact.role, contact.department_code, contact.phone) == ("village_agent", "village_point",
                                                                          "+8613900040004")


async def test_county_it_records_a_staff_member_and_their_contact_then_a_tombstone(routing, infra):
    client, runtime, started = routing
    staff_id = f"hx-civil_affairs-{uuid4().hex[:6]}"
    body = {"township_id": "hexi", "department_code": "civil_affairs", "name": "何静", "window_no": "6",
            "skills": ["MZ-002", "MZ-001"], "phone": "139 0003 9901"}
    first = await client.put(f"/api/v1/staff/{staff_id}", json=body, headers=ADMIN)
    assert first.status_code == 200, first.text
    assert (first.json()["changed"], first.json()["skills"], first.json()["presence"]) == (True, ["MZ-001", "MZ-002"],
                                                                                         "on_duty")
    assert "phone" not in first.json()
    same = await client.put(f"/api/v1/staff/{staff_id}", json=body, headers=ADMIN)
    assert same.json()["changed"] is False
    assert len(await _events(runtime, staff_stream_id(staff_id), "StaffRecorded")) == 1
    found = await _once_on_kafka(infra.kafka_bootstrap, ROUTING_STAFF, str(staff_stream_id(staff_id)), "StaffRecorded",
                                 1, started)
    assert found[0]["payload"]["name"] == "何静" and "phone" not in found[0]["payload"]
    # The topic carries current state: wait for the number before it is withdrawn, or only the tombstone goes out.
    [(_, contact)] = await _staff_records(infra.kafka_bootstrap, staff_id, 1, started)
    assert contact.phone == "+8613900039901" and contact.version == 1
    left = await client.put(f"/api/v1/staff/{staff_id}", json=body | {"active": False}, headers=ADMIN)
    assert left.json()["active"] is False
    [_, (_, tombstone)] = await _staff_records(infra.kafka_bootstrap, staff_id, 2, started)
    assert tombstone is None


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"department_code": "post_office"}, 422, "DEPARTMENT_UNKNOWN"),
    ({"township_id": "nowhere"}, 422, "TOWNSHIP_UNKNOWN"),
    ({"skills": ["yb1"]}, 422, "SKILL_INVALID"),
    ({"phone": "0571-8888 1001"}, 422, "PHONE_INVALID"),
    ({"name": "王\u202e芳"}, 422, None),
])
async def test_bad_staff_records_are_refused_and_change_nothing(routing, change, status, code):
    client, runtime, _ = routing
    body = {"township_id": "hexi", "department_code": "civil_affairs", "name": "何静"} | change
    resp = await client.put("/api/v1/staff/hx-civil_affairs-bad", json=body, headers=ADMIN)
    assert resp.status_code == status, resp.text
    assert code is None or resp.json()["code"] == code
    assert "message" in resp.json()
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM staff WHERE staff_id = 'hx-civil_affairs-bad'") == 0


async def test_going_away_hands_cases_over_and_coming_back_takes_the_held_ones(routing, infra):
    client, runtime, started = routing
    _, first = await _case_in(client, infra.kafka_bootstrap, township_id="hexi", department_code="forestry")
    _, second = await _case_in(client, infra.kafka_bootstrap, township_id="hexi", department_code="forestry")
    assert {first["staff_id"], second["staff_id"]} == {"hx-forestry-01", "hx-forestry-02"}
    held_by_02 = first if first["staff_id"] == "hx-forestry-02" else second

    away = await client.post("/api/v1/staff/hx-forestry-02/presence", json=_away(16), headers=as_staff("hx-forestry-02"))
    assert away.status_code == 200, away.text
    assert (away.json()["status_label"], away.json()["cases_handed_over"]) == ("下村", 1)
    assert (await _case(client, held_by_02["case_id"]))["staff_id"] == "hx-forestry-01"

    # The head sends the other one off duty too: nobody of forestry is left, the general window holds both.
    off = await client.post("/api/v1/staff/hx-forestry-01/presence", json={"status": "off_duty"}, headers=HX_HEAD)
    assert off.json()["cases_handed_over"] == 2
    async with runtime.pool.acquire() as conn:
        held = await conn.fetch("SELECT staff_id, held_by_general_window FROM cases WHERE case_id = ANY($1::uuid[])",
                                [_uuid(first["case_id"]), _uuid(second["case_id"])])
    assert [tuple(r) for r in held] == [(None, True), (None, True)]

    back = await client.post("/api/v1/staff/hx-forestry-02/presence", json={"status": "on_duty"},
                             headers=as_staff("hx-forestry-02"))
    assert (back.json()["status_label"], back.json()["cases_taken"]) == ("在岗", 2)
    for view in (first, second):
        assert (await _case(client, view["case_id"]))["staff_id"] == "hx-forestry-02"

    reasons = [e["payload"]["reason"] for e in await _events(runtime, _uuid(held_by_02["case_id"]), "CaseAssigned")]
    assert reasons == ["accepted", "handover", "handover", "staff_returned"]
    on_kafka = await _once_on_kafka(infra.kafka_bootstrap, ROUTING_CASES, held_by_02["case_id"], "CaseAssigned",
                                    len(reasons), started)
    assert [b["payload"]["reason"] for b in on_kafka] == reasons
    changes = [b["payload"] for b in await _once_on_kafka(
        infra.kafka_bootstrap, ROUTING_STAFF, str(staff_stream_id("hx-forestry-02")), "StaffPresenceChanged", 2, started)]
    assert [(c["status"], c["cases_handed_over"], c["rostered"]) for c in changes] == [
        ("away", 1, True), ("on_duty", 0, True)]
    assert changes[0]["reason"] == "village_visit" and changes[0]["note"] == "和平社区入户核查"


def _uuid(text: str) -> UUID:
    return UUID(text)


@pytest.mark.parametrize(("staff_id", "headers", "body", "status", "code"), [
    ("hx-health-02", as_staff("hx-health-02"), {"status": "away", "note": "不在"}, 422, "AWAY_REASON_REQUIRED"),
    ("hx-health-02", as_staff("hx-health-02"), _away(9), 422, "PRESENCE_TIME_PAST"),
    ("hx-health-02", as_staff("hx-health-02"), _away(9) | {"away_until": "2026-11-25T02:00:00Z"}, 422,
     "AWAY_BEYOND_WORKING_DAY"),
    ("hx-health-02", as_staff("hx-health-02"), {"status": "on_duty", "reason": "meeting"}, 422,
     "PRESENCE_FIELDS_UNEXPECTED"),
    ("hx-health-02", as_staff("hx-health-01"), {"status": "off_duty"}, 403, "NOT_OWN_PRESENCE"),
    ("hx-health-02", QS_HEAD, {"status": "off_duty"}, 403, "TOWNSHIP_FORBIDDEN"),
    ("hx-nobody-01", HX_HEAD, {"status": "off_duty"}, 404, "STAFF_NOT_FOUND"),
    ("hx-health-02", as_staff("hx-health-02"), _away(11) | {"away_until": "2026-11-24T03:00:00"}, 422, None),
])
async def test_bad_presence_is_refused_and_changes_nothing(routing, staff_id, headers, body, status, code):
    client, runtime, _ = routing
    resp = await client.post(f"/api/v1/staff/{staff_id}/presence", json=body, headers=headers)
    assert resp.status_code == status, resp.text
    assert code is None or resp.json()["code"] == code
    board = (await client.get("/api/v1/townships/hexi/presence-board")).json()
    assert [s["status"] for s in board["staff"] if s["name"] == _name(staff_id)] in ([], ["on_duty"])
    assert await _events(runtime, staff_stream_id(staff_id), "StaffPresenceChanged") == []


def _name(staff_id: str) -> str:
    return next((s.name for s in load_staff_file().staff if s.staff_id == staff_id), "")


async def test_on_a_market_day_a_department_keeps_someone_at_its_window(routing):
    client, runtime, _ = routing
    monday = TODAY - timedelta(days=TODAY.weekday())
    staff = ["hx-judicial-01", "hx-judicial-02", "hx-head"]
    days = [{"duty_date": TODAY.isoformat(), "day_kind": "market_day", "staff_ids": staff}]
    put = await client.put(f"/api/v1/townships/hexi/roster/{monday}", json={"days": days}, headers=HX_HEAD)
    assert put.status_code == 200, put.text
    read = await client.get(f"/api/v1/townships/hexi/roster/{monday}", headers=as_staff("hx-judicial-01"))
    assert read.json()["days"] == [{"duty_date": TODAY.isoformat(), "day_kind": "market_day", "staff_ids": staff}]
    [roster] = await _events(runtime, roster_stream_id("hexi"), "RosterSet")
    assert roster["payload"]["week_of"] == monday.isoformat()

    assert (await client.post("/api/v1/staff/hx-judicial-01/presence", json=_away(11, "meeting"),
                              headers=as_staff("hx-judicial-01"))).status_code == 200
    last = await client.post("/api/v1/staff/hx-judicial-02/presence", json=_away(11, "meeting"),
                             headers=as_staff("hx-judicial-02"))
    assert (last.status_code, last.json()["code"]) == (409, "WINDOW_WOULD_BE_EMPTY"), last.text
    assert "逢场天" in last.json()["message"]
    leave = await client.post("/api/v1/staff/hx-judicial-02/presence", json=_away(17, "leave", "病假"),
                              headers=HX_HEAD)
    assert leave.json()["status_label"] == "请假"
    # Not rostered today (only the judicial office and the head are): their presence says so.
    other = await client.post("/api/v1/staff/hx-agriculture-01/presence", json={"status": "off_duty"},
                              headers=as_staff("hx-agriculture-01"))
    assert other.status_code == 200
    [changed] = await _events(runtime, staff_stream_id("hx-agriculture-01"), "StaffPresenceChanged")
    assert changed["payload"]["rostered"] is False


@pytest.mark.parametrize(("path", "body", "code"), [
    ("2026-11-24", {"days": [{"duty_date": "2026-11-24", "staff_ids": []}]}, "ROSTER_WEEK_NOT_MONDAY"),
    ("2026-11-23", {"days": [{"duty_date": "2026-12-01", "staff_ids": []}]}, "ROSTER_DAY_OUTSIDE_WEEK"),
    ("2026-11-23", {"days": [{"duty_date": "2026-11-24", "staff_ids": ["qs-health-01"]}]}, "ROSTER_STAFF_UNKNOWN"),
])
async def test_bad_rosters_are_refused(routing, path, body, code):
    client, _, _ = routing
    resp = await client.put(f"/api/v1/townships/baishi/roster/{path}", json=body,
                            headers=auth_header("centre_head", "baishi", sub="bs-head"))
    assert (resp.status_code, resp.json()["code"]) == (422, code), resp.text
    read = await client.get(f"/api/v1/townships/baishi/roster/{path}", headers=auth_header("inspector", None))
    assert read.json()["days"] == []


async def test_the_presence_board_needs_no_token_and_shows_no_mobile_number(routing):
    client, _, _ = routing
    away = await client.post("/api/v1/staff/qs-civil_affairs-01/presence", json=_away(16, "training", "县民政局培训"),
                             headers=QS_HEAD)
    assert away.status_code == 200, away.text
    resp = await client.get("/api/v1/townships/qingshui/presence-board")
    assert resp.status_code == 200, resp.text
    assert "139" not in resp.text and "+86" not in resp.text
    board = resp.json()
    assert board["enquiry_line"] == "0571-8888 1001"
    rows = {s["name"]: s for s in board["staff"]}
    assert board["staff"][0]["name"] == "赵建国"  # the centre head first
    civil = rows[_name("qs-civil_affairs-01")]
    assert (civil["status_label"], civil["note"], civil["department_name"]) == ("培训", "县民政局培训", "民政办")
    assert civil["contact_phone"] == "0571-8877 1003" and civil["back_at"] is not None
    missing = await client.get("/api/v1/townships/nowhere/presence-board")
    assert (missing.status_code, missing.json()["code"]) == (404, "TOWNSHIP_NOT_FOUND")


async def test_absences_are_recorded_once_per_staff_day_and_kind(routing):
    client, runtime, _ = routing
    head = auth_header("centre_head", "baishi", sub="bs-head")
    off = await client.post("/api/v1/staff/bs-veterans-02/presence", json={"status": "off_duty"},
                            headers=as_staff("bs-veterans-02", "baishi"))
    away = await client.post("/api/v1/staff/bs-health-01/presence", json=_away(10, "meeting", "县卫健局开会"), headers=head)
    assert (off.status_code, away.status_code) == (200, 200)
    settings, calendar = runtime.settings, default_calendar()
    for clock in (runtime.clock, FixedClock(MORNING + timedelta(hours=1)), FixedClock(MORNING + timedelta(hours=2))):
        await staff_commands.record_absences(runtime.pool, clock, hours_of=settings.hours_of,
                                             grace=timedelta(minutes=15), calendar=calendar)
    [absent] = await _events(runtime, staff_stream_id("bs-veterans-02"), "StaffAbsenceRecorded")
    assert absent["payload"]["kind"] == "not_at_post" and absent["payload"]["duty_date"] == TODAY.isoformat()
    [late] = await _events(runtime, staff_stream_id("bs-health-01"), "StaffAbsenceRecorded")
    assert late["payload"]["kind"] == "overdue_return"
    listed = await client.get("/api/v1/townships/baishi/absences", headers=head)
    assert [(a["staff_id"], a["kind"], a["kind_label"]) for a in listed.json()["absences"]] == [
        ("bs-health-01", "overdue_return", "逾时未归"), ("bs-veterans-02", "not_at_post", "无故不在岗")]
    county = await client.get("/api/v1/townships/baishi/absences", headers=auth_header("inspector", None))
    assert county.status_code == 200 and "bs-veterans-02" in county.text
    foreign = await client.get("/api/v1/townships/baishi/absences", headers=QS_HEAD)
    assert (foreign.status_code, foreign.json()["code"]) == (403, "TOWNSHIP_FORBIDDEN")


async def test_the_centre_head_assigns_a_case_by_hand_to_someone_able(routing, infra):
    client, runtime, _ = routing
    _, view = await _case_in(client, infra.kafka_bootstrap, township_id="hexi", department_code="health")
    target = "hx-health-02" if view["staff_id"] != "hx-health-02" else "hx-health-01"
    for staff_id, status, code in [("hx-forestry-01", 409, "STAFF_NOT_ABLE"), ("qs-health-01", 422, "STAFF_OTHER_TOWNSHIP"),
                                   ("hx-nobody-09", 422, "ASSIGNEE_UNKNOWN"), ("hx-agent-xinhe", 409, "STAFF_NOT_ABLE")]:
        resp = await client.post(f"/api/v1/cases/{view['case_id']}/assign", json={"staff_id": staff_id}, headers=HX_HEAD)
        assert (resp.status_code, resp.json()["code"]) == (status, code), resp.text
    assert (await _case(client, view["case_id"]))["staff_id"] == view["staff_id"]
    done = await client.post(f"/api/v1/cases/{view['case_id']}/assign", json={"staff_id": target}, headers=HX_HEAD)
    assert done.status_code == 200 and done.json()["staff_id"] == target
    [_, by_hand] = await _events(runtime, _uuid(view["case_id"]), "CaseAssigned")
    assert by_hand["payload"]["reason"] == "centre_head" and by_hand["actor"] == {"kind": "centre_head", "id": "hx-head"}
    refused = await client.post(f"/api/v1/cases/{view['case_id']}/assign", json={"staff_id": target},
                                headers=as_staff(target))
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_FORBIDDEN")


async def test_presence_changes_racing_new_cases_and_transfers_leave_no_case_with_someone_away(routing, infra):
    client, runtime, _ = routing
    me = as_staff("hx-employment-01")
    _, moving = await _case_in(client, infra.kafka_bootstrap, township_id="hexi", department_code="agriculture")
    cases = [case_submitted(township_id="hexi", department_code="employment") for _ in range(8)]
    toggles = [{"status": "on_duty"}, _away(16, "meeting")] * 3
    transfer = {"to_department_code": "employment", "reason": "属就业业务"}
    results = await asyncio.gather(
        publish(infra.kafka_bootstrap, *cases),
        client.post(f"/api/v1/cases/{moving['case_id']}/transfer", json=transfer, headers=HX_HEAD),
        *(client.post("/api/v1/staff/hx-employment-01/presence", json=body, headers=me) for body in toggles))
    assert [r.status_code for r in results[1:]] == [200] * (1 + len(toggles)), [r.text for r in results[1:]]
    ids = [c.case_id for c in cases] + [_uuid(moving["case_id"])]

    async def all_routed():
        async with runtime.pool.acquire() as conn:
            return await conn.fetchval("SELECT count(*) = $2 FROM cases WHERE case_id = ANY($1::uuid[])", ids, len(ids))
    await eventually(all_routed, what="every case routed")
    async with runtime.pool.acquire() as conn:
        holders = await conn.fetch("SELECT c.staff_id, c.held_by_general_window, s.presence FROM cases c"
                                   " LEFT JOIN staff s USING (staff_id) WHERE c.case_id = ANY($1::uuid[])", ids)
    assert all(h["presence"] == "on_duty" if h["staff_id"] else h["held_by_general_window"] for h in holders), holders


async def test_two_instances_recording_a_new_staff_member_at_once_record_it_once(make_database):
    dsn = await make_database("it_staff_seed")
    pools = [await create_pool(dsn, "routing", min_size=1, max_size=2) for _ in range(2)]
    try:
        await apply_migrations(pools[0], "routing", Path(staff_commands.__file__).resolve().parent)
        clock = FixedClock(MORNING)
        await staff_commands.seed_staff_file(pools[0], clock, load_staff_file())
        record = StaffRecord(staff_id="hx-health-77", township_id="hexi", department_code="health", role="staff",
                             name="何静", phone="+8613900039977")

        async def record_once(pool) -> bool:
            async with pool.acquire() as conn, conn.transaction():
                return await staff_commands.record_staff(conn, clock, record, actor=Actor(kind="admin", id="it"))
        assert sorted(await asyncio.gather(*(record_once(p) for p in pools))) == [False, True]
        async with pools[0].acquire() as conn:
            recorded = await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1",
                                           staff_stream_id("hx-health-77"))
            version = await conn.fetchval("SELECT version FROM staff_contacts WHERE staff_id = 'hx-health-77'")
        assert (recorded, version) == (1, 1)
    finally:
        for pool in pools:
            await pool.close()


async def test_a_staff_member_made_inactive_hands_their_cases_over_and_leaves_the_board(routing, infra):
    client, runtime, _ = routing
    _, view = await _case_in(client, infra.kafka_bootstrap, township_id="hexi", department_code="disabled_persons")
    holder = view["staff_id"]
    other = "hx-disabled_persons-02" if holder == "hx-disabled_persons-01" else "hx-disabled_persons-01"
    spec = next(s for s in load_staff_file().staff if s.staff_id == holder)
    body = spec.model_dump(exclude={"staff_id", "village_id"}) | {"skills": list(spec.skills), "active": False}
    shown = await _on_board(client, spec.name)
    left = await client.put(f"/api/v1/staff/{holder}", json=body, headers=ADMIN)
    assert (left.status_code, left.json()["active"]) == (200, False), left.text
    assert (await _case(client, view["case_id"]))["staff_id"] == other
    [_, handover] = await _events(runtime, _uuid(view["case_id"]), "CaseAssigned")
    assert handover["payload"]["reason"] == "handover" and handover["actor"] == {"kind": "admin", "id": "county-it"}
    assert await _on_board(client, spec.name) == shown - 1
    refused = await client.post(f"/api/v1/staff/{holder}/presence", json={"status": "on_duty"}, headers=HX_HEAD)
    assert (refused.status_code, refused.json()["code"]) == (409, "STAFF_INACTIVE")


async def _on_board(client, name: str) -> int:
    """How many of the hexi board's staff bear this name (the board shows no staff ids)."""
    board = (await client.get("/api/v1/townships/hexi/presence-board")).json()
    return sum(s["name"] == name for s in board["staff"])


async def _once_on_kafka(bootstrap: str, topic: str, key: str, event_type: str, count: int,
                         since: datetime) -> list[dict]:
    """The events of this type and key on the topic, once the relay has published at least `count` of them."""
    async def probe():
        found = [b for b, h in await read_topic(bootstrap, topic, key=key, since=since) if h["event_type"] == event_type]
        return found if len(found) >= count else None
    return await eventually(probe, what=f"{count} {event_type} of {key} on {topic}")
