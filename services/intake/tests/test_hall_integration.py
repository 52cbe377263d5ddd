"""The hall on real PostgreSQL and Kafka: a morning of tickets on a set clock, its events on the hall
topic in order, the display board, and the staffing figures checked against what was done."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer

from contracts.topics import INTAKE_HALL
from services.audit.app import create_app as create_audit_app
from services.audit.settings import AuditSettings
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.kit.kafka_security import kafka_client_options
from services.kit.testing import FixedClock, auth_header, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration
KIOSK = auth_header("staff", "qingshui", sub="qs-kiosk")
WINDOW_1 = auth_header("staff", "qingshui", sub="qs-social_security-01")
WINDOW_2 = auth_header("staff", "qingshui", sub="qs-general_window-01")
HEAD = auth_header("centre_head", "qingshui", sub="head-qs")
# Monday 23 November 2026, 08:30 in Asia/Shanghai.
MORNING = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
async def hall(infra, make_database):
    """Intake on a set clock, and audit beside it on the same database (schemas of their own)."""
    suffix, dsn = f"-hall-{uuid4().hex[:6]}", await make_database("it_hall")
    for name in ("intake", "audit"):
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
    common = {"DATABASE_URL": dsn, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
              "BIANMIN_CONSUMER_GROUP_SUFFIX": suffix}
    app = create_app(IntakeSettings(**common))
    clock = FixedClock(MORNING)
    app.state.runtime.clock = clock
    async with running_app(app) as client, running_app(create_audit_app(AuditSettings(**common))) as audit:
        yield client, clock, audit


async def _hall_records(bootstrap: str, key: str, count: int) -> list[dict]:
    """The first `count` events of one ticket on the hall topic, in the order Kafka keeps them."""
    consumer = AIOKafkaConsumer(INTAKE_HALL, bootstrap_servers=bootstrap, **kafka_client_options(),
                                auto_offset_reset="earliest", group_id=f"probe-{uuid4().hex}", enable_auto_commit=False)
    await consumer.start()
    found: list[dict] = []
    try:
        async def probe():
            batch = await consumer.getmany(timeout_ms=500)
            found.extend(json.loads(r.value) for records in batch.values() for r in records if r.key == key.encode())
            return len(found) >= count
        await eventually(probe, what=f"{count} events of ticket {key} on {INTAKE_HALL}")
        return found
    finally:
        await consumer.stop()


async def _at(client, clock: FixedClock, minutes: float, method: str, path: str, body: dict | None = None,
              headers: dict | None = None, status: int = 200) -> dict:
    clock.at = MORNING + timedelta(minutes=minutes)
    resp = await client.request(method, path, json=body, headers=headers or WINDOW_1)
    assert resp.status_code == status, resp.text
    return resp.json()


async def test_a_morning_in_the_hall(hall, infra):
    client, clock, _ = hall
    issue = {"township_id": "qingshui"}
    # 08:30 – 08:35: three residents take tickets at the kiosk.
    b1 = await _at(client, clock, 0, "POST", "/api/v1/hall/tickets", issue | {"queue": "social_security"}, KIOSK, 201)
    b2 = await _at(client, clock, 2, "POST", "/api/v1/hall/tickets", issue | {"queue": "social_security"}, KIOSK, 201)
    a1 = await _at(client, clock, 5, "POST", "/api/v1/hall/tickets", issue | {"queue": "general_window"}, KIOSK, 201)
    assert [(t["ticket_no"], t["waiting_ahead"]) for t in (b1, b2, a1)] == [("B001", 0), ("B002", 1), ("A001", 0)]

    # 08:40 window 1 (social security) calls; 08:41 the resident arrives.
    called = await _at(client, clock, 10, "POST", "/api/v1/hall/calls", issue | {
        "window_no": "1", "queues": ["social_security"]})
    assert (called["ticket_id"], called["status"], called["wait_seconds"]) == (b1["ticket_id"], "called", 600)
    started = await _at(client, clock, 11, "POST", f"/api/v1/hall/tickets/{b1['ticket_id']}/start", {"window_no": "1"})
    assert (started["status"], started["wait_seconds"]) == ("started", 660)

    # 08:42 window 2 serves both queues: B002 has waited longest.
    two = issue | {"window_no": "2", "queues": ["general_window", "social_security"]}
    called = await _at(client, clock, 12, "POST", "/api/v1/hall/calls", two, WINDOW_2)
    assert (called["ticket_no"], called["wait_seconds"]) == ("B002", 600)
    busy = await _at(client, clock, 12, "POST", "/api/v1/hall/calls", two, WINDOW_2, 409)
    assert busy["code"] == "WINDOW_BUSY"

    board = await _at(client, clock, 13, "GET", "/api/v1/hall/queue?township_id=qingshui", headers={})
    assert board["day"] == "2026-11-23"
    assert [(q["letter"], q["queue"], q["waiting"], q["next"]) for q in board["queues"]] == [
        ("A", "general_window", 1, ["A001"]), ("B", "social_security", 0, [])]
    assert [(w["ticket_no"], w["window_no"], w["status"]) for w in board["windows"]] == [
        ("B002", "2", "called"), ("B001", "1", "started")]
    assert "qs-" not in json.dumps(board)  # no staff ids on a public screen

    # Nobody comes for B002: called again at 08:44, no-show at 08:46; then A001 at 08:47.
    recalled = await _at(client, clock, 14, "POST", f"/api/v1/hall/tickets/{b2['ticket_id']}/recall",
                         {"window_no": "2"}, WINDOW_2)
    assert recalled["wait_seconds"] == 720
    too_early = await _at(client, clock, 15, "POST", f"/api/v1/hall/tickets/{b2['ticket_id']}/end",
                          {"window_no": "2", "outcome": "served"}, WINDOW_2, 409)
    assert too_early["code"] == "TICKET_NOT_STARTED" and "过号" in too_early["message"]
    gone = await _at(client, clock, 16, "POST", f"/api/v1/hall/tickets/{b2['ticket_id']}/end",
                     {"window_no": "2", "outcome": "no_show"}, WINDOW_2)
    assert (gone["status"], gone["service_seconds"]) == ("ended", 0)
    called = await _at(client, clock, 17, "POST", "/api/v1/hall/calls", two, WINDOW_2)
    assert (called["ticket_no"], called["wait_seconds"]) == ("A001", 720)
    await _at(client, clock, 18, "POST", f"/api/v1/hall/tickets/{a1['ticket_id']}/start", {"window_no": "2"}, WINDOW_2)

    # 08:50 window 1 took a case in during B001's service and ends it; 09:05 window 2 ends A001.
    case = await _at(client, clock, 19, "POST", "/api/v1/cases", case_body(), WINDOW_1, 201)
    ended = await _at(client, clock, 20, "POST", f"/api/v1/hall/tickets/{b1['ticket_id']}/end",
                      {"window_no": "1", "outcome": "served", "case_ids": [case["case_id"], case["case_id"]]})
    assert (ended["status"], ended["service_seconds"]) == ("ended", 540)
    await _at(client, clock, 35, "POST", f"/api/v1/hall/tickets/{a1['ticket_id']}/end",
              {"window_no": "2", "outcome": "served"}, WINDOW_2)
    # 09:10 one more ticket; nobody calls it before the day ends.
    b3 = await _at(client, clock, 40, "POST", "/api/v1/hall/tickets", issue | {"queue": "social_security"}, KIOSK, 201)
    assert b3["ticket_no"] == "B003"

    events = await _hall_records(infra.kafka_bootstrap, b1["ticket_id"], 4)
    assert [(e["event_type"], e["stream_version"]) for e in events] == [
        ("TicketIssued", 1), ("TicketCalled", 2), ("ServiceStarted", 3), ("ServiceEnded", 4)]
    assert {e["township_id"] for e in events} == {"qingshui"} and events[1]["actor"]["id"] == "qs-social_security-01"
    assert events[3]["payload"] == {"ticket_no": "B001", "outcome": "served", "service_seconds": 540,
                                    "case_ids": [case["case_id"]]}
    events = await _hall_records(infra.kafka_bootstrap, b2["ticket_id"], 4)
    assert [(e["event_type"], e["payload"].get("recall"), e["payload"].get("outcome")) for e in events] == [
        ("TicketIssued", None, None), ("TicketCalled", False, None), ("TicketCalled", True, None),
        ("ServiceEnded", None, "no_show")]

    stats = await _at(client, clock, 60, "GET", "/api/v1/hall/stats?township_id=qingshui&from=2026-11-23&to=2026-11-23",
                      headers=HEAD)
    total = stats["total"]
    assert (total["visitors"], total["served"], total["no_show"], total["not_ended"], total["days_open"]) == (
        4, 2, 1, 1, 1)
    assert total["wait"] == {"count": 2, "mean": 720.0, "p50": 720.0, "p90": 768.0}  # B001 660 s, A001 780 s
    assert total["service"] == {"count": 2, "mean": 780.0, "p50": 780.0, "p90": 972.0}  # 540 s and 1020 s
    assert total["window_hours_per_day"] == round(1560 / 3600, 2)
    eight, nine = stats["by_hour"]
    assert (eight["hour"], eight["visitors"], eight["served"], eight["no_show"]) == (8, 3, 2, 1)
    assert (nine["hour"], nine["visitors"], nine["not_ended"], nine["wait"]["count"]) == (9, 1, 1, 0)
    [monday] = stats["by_weekday"]
    assert (monday["weekday"], monday["name"], monday["visitors"]) == (1, "星期一", 4)

    # The next morning yesterday's last ticket is gone from the queue, and numbers start again.
    tomorrow = 24 * 60
    nothing = await _at(client, clock, tomorrow, "POST", "/api/v1/hall/calls", issue | {
        "window_no": "1", "queues": ["social_security"]}, status=404)
    assert nothing["code"] == "NO_TICKET_WAITING"
    stale = await _at(client, clock, tomorrow, "POST", f"/api/v1/hall/tickets/{a1['ticket_id']}/start",
                      {"window_no": "2"}, WINDOW_2, 409)
    assert stale["code"] == "TICKET_ENDED"
    fresh = await _at(client, clock, tomorrow, "POST", "/api/v1/hall/tickets", issue | {"queue": "social_security"},
                      KIOSK, 201)
    assert fresh["ticket_no"] == "B001"
    board = await _at(client, clock, tomorrow, "GET", "/api/v1/hall/queue?township_id=qingshui", headers={})
    assert board["queues"][1]["next"] == ["B001"] and board["windows"] == []


async def test_a_ticket_called_yesterday_cannot_be_served_today(hall):
    client, clock, _ = hall
    t = await _at(client, clock, 3 * 24 * 60, "POST", "/api/v1/hall/tickets",
                  {"township_id": "qingshui", "queue": "civil_affairs"}, KIOSK, 201)
    await _at(client, clock, 3 * 24 * 60 + 1, "POST", "/api/v1/hall/calls",
              {"township_id": "qingshui", "window_no": "7", "queues": ["civil_affairs"]})
    refused = await _at(client, clock, 4 * 24 * 60, "POST", f"/api/v1/hall/tickets/{t['ticket_id']}/start",
                        {"window_no": "7"}, status=409)
    assert refused["code"] == "TICKET_NOT_TODAY" and "重新取号" in refused["message"]


async def test_what_a_client_gets_wrong_is_named(hall):
    client, clock, _ = hall
    day = 5 * 24 * 60
    unknown = await _at(client, clock, day, "POST", "/api/v1/hall/tickets", {"township_id": "qingshui",
                        "queue": "no_such_department"}, KIOSK, 404)
    assert unknown["code"] == "QUEUE_UNKNOWN"
    other = await _at(client, clock, day, "POST", "/api/v1/hall/tickets", {"township_id": "baishi",
                      "queue": "general_window"}, KIOSK, 403)
    assert other["code"] == "TOWNSHIP_FORBIDDEN"
    ticket = await _at(client, clock, day, "POST", "/api/v1/hall/tickets",
                       {"township_id": "qingshui", "queue": "general_window"}, KIOSK, 201)
    elsewhere = auth_header("staff", "baishi")
    hidden = await _at(client, clock, day, "POST", f"/api/v1/hall/tickets/{ticket['ticket_id']}/start",
                       {"window_no": "1"}, elsewhere, 403)
    assert hidden["code"] == "TOWNSHIP_FORBIDDEN"
    missing = await _at(client, clock, day, "POST", f"/api/v1/hall/tickets/{uuid4()}/start", {"window_no": "1"},
                        status=404)
    assert missing["code"] == "TICKET_NOT_FOUND"
    await _at(client, clock, day, "POST", "/api/v1/hall/calls",
              {"township_id": "qingshui", "window_no": "9", "queues": ["general_window"]})
    await _at(client, clock, day, "POST", f"/api/v1/hall/tickets/{ticket['ticket_id']}/start", {"window_no": "9"})
    foreign = await _at(client, clock, day, "POST", f"/api/v1/hall/tickets/{ticket['ticket_id']}/end",
                        {"window_no": "9", "outcome": "served", "case_ids": [str(uuid4())]}, status=422)
    assert foreign["code"] == "CASE_NOT_IN_TOWNSHIP"
    bad_window = await _at(client, clock, day, "POST", f"/api/v1/hall/tickets/{ticket['ticket_id']}/end",
                           {"window_no": "9 号", "outcome": "served"}, status=422)
    assert bad_window["code"] == "CODE_INVALID"

    stats = "/api/v1/hall/stats?township_id=qingshui&from={}&to={}"
    too_long = await _at(client, clock, day, "GET", stats.format("2025-01-01", "2026-01-02"), headers=HEAD, status=422)
    assert too_long["code"] == "STATS_RANGE_INVALID"
    backwards = await _at(client, clock, day, "GET", stats.format("2026-02-01", "2026-01-01"), headers=HEAD, status=422)
    assert backwards["code"] == "STATS_RANGE_INVALID"
    await _at(client, clock, day, "GET", stats.format("2024-01-01", "2024-12-31"), headers=HEAD)  # 366 days: fine
    staff = await _at(client, clock, day, "GET", stats.format("2026-01-01", "2026-01-02"), headers=KIOSK, status=403)
    assert staff["code"] == "ROLE_FORBIDDEN"
    other_head = auth_header("centre_head", "baishi")
    assert (await _at(client, clock, day, "GET", stats.format("2026-01-01", "2026-01-02"), headers=other_head,
                      status=403))["code"] == "TOWNSHIP_FORBIDDEN"
    inspector = auth_header("inspector", None)
    await _at(client, clock, day, "GET", stats.format("2026-01-01", "2026-01-02").replace("qingshui", "baishi"),
              headers=inspector)
    nowhere = await _at(client, clock, day, "GET", "/api/v1/hall/queue?township_id=atlantis", headers={}, status=404)
    assert nowhere["code"] == "TOWNSHIP_NOT_FOUND"


async def test_audit_keeps_every_step_of_a_ticket(hall):
    client, clock, audit = hall
    day = 6 * 24 * 60
    ticket = await _at(client, clock, day, "POST", "/api/v1/hall/tickets",
                       {"township_id": "qingshui", "queue": "veterans"}, KIOSK, 201)
    await _at(client, clock, day + 3, "POST", "/api/v1/hall/calls",
              {"township_id": "qingshui", "window_no": "4", "queues": ["veterans"]})
    await _at(client, clock, day + 5, "POST", f"/api/v1/hall/tickets/{ticket['ticket_id']}/end",
              {"window_no": "4", "outcome": "no_show"})

    async def recorded():
        resp = await audit.get(f"/api/v1/cases/{ticket['ticket_id']}/history", headers=auth_header("inspector", None))
        return resp.json() if resp.status_code == 200 and len(resp.json()["events"]) == 3 else None
    history = await eventually(recorded, what="audit to record the ticket's three events")
    assert [(e["event_type"], e["stream_version"]) for e in history["events"]] == [
        ("TicketIssued", 1), ("TicketCalled", 2), ("ServiceEnded", 3)]
    assert history["gaps"] == [] and history["township_id"] == "qingshui"


async def test_at_the_same_moment_kiosks_get_distinct_numbers_and_windows_distinct_tickets(hall):
    client, clock, _ = hall
    clock.at = MORNING + timedelta(days=7)
    issue = {"township_id": "qingshui", "queue": "disabled_persons"}
    issued = await asyncio.gather(*(client.post("/api/v1/hall/tickets", json=issue, headers=KIOSK) for _ in range(8)))
    assert [r.status_code for r in issued] == [201] * 8
    numbers = sorted(r.json()["ticket_no"][1:] for r in issued)
    assert numbers == [f"{n:03d}" for n in range(1, 9)]
    assert sorted(r.json()["waiting_ahead"] for r in issued) == list(range(8))

    def call(window: str):
        return client.post("/api/v1/hall/calls", headers=WINDOW_1, json={
            "township_id": "qingshui", "window_no": window, "queues": ["disabled_persons"]})
    calls = await asyncio.gather(*(call(w) for w in ("11", "12", "13", "13")))
    answered = sorted((r.status_code, r.json().get("code")) for r in calls)
    assert answered == [(200, None), (200, None), (200, None), (409, "WINDOW_BUSY")]
    called = {r.json()["ticket_no"] for r in calls if r.status_code == 200}
    assert len(called) == 3  # three windows, three tickets
