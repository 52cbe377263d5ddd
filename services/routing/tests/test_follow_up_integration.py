"""The bad-rating loop in routing on real PostgreSQL and Kafka: a bad CaseRated opens a follow-up (FollowUpOpened
on Kafka) owned by who completed the case; the visit, rectification, appeal and decision over HTTP with every
bad input refused by its code; the visit's timers firing DeadlineWarning and DeadlineBreached (follow_up)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload, CaseSubmitted, DeadlineBreached, DeadlineWarning
from contracts.rating_events import (
    FOLLOW_UP_VISIT,
    FollowUpOpened,
    FollowUpRecorded,
    RatingAppealDecided,
    RatingAppealed,
    RectificationRecorded,
)
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.tests.builders import case_submitted
from services.routing.tests.probes import group_of, publish, read_events, wait_for_events

pytestmark = pytest.mark.integration
OWNER_ID = "qs-social_security-01"
OWNER = auth_header("staff", "qingshui", sub=OWNER_ID, department_code="social_security")
COLLEAGUE = auth_header("staff", "qingshui", sub="qs-social_security-02", department_code="social_security")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")
DEPUTY = auth_header("centre_head", "qingshui", sub="qs-deputy-head")
ELSEWHERE = auth_header("centre_head", "hexi", sub="hx-head")
VISIT = {"reached": True, "means": "phone", "resident_said": "反映材料被要求重复提交", "complaint_holds": True}
FIX = {"measures": "已在窗口公示材料清单，对经办人批评教育", "evidence": ["清水镇整改通知〔2026〕3号"],
       "answer_to_resident": "您反映的重复提交材料问题已整改，感谢监督", "rate_again": True}
APPEAL = {"ground": "about_the_law", "reason": "申请人对政策标准本身不满"}
DECISION = {"upheld": True, "reason": "经核实，差评针对政策标准，非服务问题"}


def _settings(dsn: str, bootstrap: str, **extra) -> RoutingSettings:
    return RoutingSettings(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                           BIANMIN_CONSUMER_GROUP_SUFFIX=f"-it-{uuid4().hex[:8]}", **extra)


@pytest.fixture(scope="module")
async def routing(infra, make_database):
    settings = _settings(await make_database("it_follow_ups"), infra.kafka_bootstrap)
    await start_group_at_end(infra.kafka_bootstrap, group_of(settings), [CaseSubmitted.TOPIC])
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


def rated(submitted: CaseSubmitted, score: int, *, follows: CaseRated | None = None) -> CaseRated:
    """A CaseRated as intake would publish it; the second round when it `follows` a first rating."""
    return CaseRated(event_id=new_event_id(), schema_version="1.2", occurred_at=datetime.now(UTC),
                     source="intake", case_id=submitted.case_id, stream_version=5, township_id=submitted.township_id,
                     actor=Actor(kind="resident", id="rating-link"), correlation_id=submitted.case_id,
                     payload=CaseRatedPayload(score=score, bad_rating=score <= 2, comment="材料反复提交",
                                              rating_round=2 if follows else 1,
                                              follows_rating_id=follows.event_id if follows else None))


async def completed_case(client, bootstrap: str) -> CaseSubmitted:
    """A case taken in, routed, and completed by its department's staff member OWNER_ID."""
    submitted = case_submitted()
    await publish(bootstrap, submitted)

    async def routed():
        return (await client.get(f"/api/v1/cases/{submitted.case_id}", headers=HEAD)).status_code == 200
    await eventually(routed, what=f"routing to assign {submitted.case_id}")
    done = await client.post(f"/api/v1/cases/{submitted.case_id}/complete",
                             json={"result": "granted", "note": "已办结"}, headers=OWNER)
    assert done.status_code == 200, done.text
    return submitted


async def follow_ups_of(client, submitted: CaseSubmitted, count: int = 1) -> list[dict]:
    async def probe():
        resp = await client.get(f"/api/v1/cases/{submitted.case_id}/follow-ups", headers=HEAD)
        found = resp.json()["follow_ups"]
        return found if len(found) >= count else None
    return await eventually(probe, what=f"{count} follow-ups of {submitted.case_id}")


async def test_a_bad_rating_opens_one_follow_up_owned_by_who_completed_the_case(routing, infra):
    client, runtime = routing
    submitted = await completed_case(client, infra.kafka_bootstrap)
    good, bad = rated(submitted, 4), rated(submitted, 1)
    await publish(infra.kafka_bootstrap, good, bad, bad)  # the bad one heard twice
    [view] = await follow_ups_of(client, submitted)
    assert (view["rating_event_id"], view["owner_staff_id"], view["score"], view["stage"], view["colour"]) == (
        str(bad.event_id), OWNER_ID, 1, "visit", "green")
    [(body, headers)] = await wait_for_events(infra.kafka_bootstrap, FollowUpOpened, submitted)
    assert headers["event_type"] == "FollowUpOpened" and body["causation_id"] == str(bad.event_id)
    assert body["payload"]["visit_limit_days"] == 1 and body["payload"]["rectification_limit_days"] == 5
    assert body["payload"]["visit_due"].startswith(view["visit_due"][:10])

    async def good_heard():
        resp = await client.post(f"/api/v1/cases/{submitted.case_id}/follow-ups/{good.event_id}/visit", json=VISIT,
                                 headers=HEAD)
        return resp.json() if resp.json()["code"] == "NOT_A_BAD_RATING" else None
    refused = await eventually(good_heard, what="routing to remember the good rating")
    assert "不是差评" in refused["message"]
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1 AND event_type = 'FollowUpOpened'",
                                   submitted.case_id) == 1
        armed = await conn.fetch("SELECT deadline_key, kind FROM deadline_timers WHERE case_id = $1", bad.event_id)
    assert {r["deadline_key"] for r in armed} == {"follow_up:visit", "follow_up:rectification"}

    mine = (await client.get("/api/v1/follow-ups", headers=OWNER)).json()["follow_ups"]
    assert str(bad.event_id) in {f["rating_event_id"] for f in mine}
    assert (await client.get("/api/v1/follow-ups", headers=COLLEAGUE)).json()["follow_ups"] == []
    assert str(bad.event_id) in {f["rating_event_id"] for f in
                                 (await client.get("/api/v1/follow-ups", headers=HEAD)).json()["follow_ups"]}


async def test_visit_then_rectification_with_every_bad_input_refused(routing, infra):
    client, runtime = routing
    submitted = await completed_case(client, infra.kafka_bootstrap)
    bad = rated(submitted, 2)
    await publish(infra.kafka_bootstrap, bad)
    await follow_ups_of(client, submitted)
    url = f"/api/v1/cases/{submitted.case_id}/follow-ups/{bad.event_id}"

    async def code(verb: str, body: dict, headers: dict = OWNER) -> tuple[int, str]:
        resp = await client.post(f"{url}/{verb}", json=body, headers=headers)
        return resp.status_code, resp.json().get("code", "")

    assert await code("rectification", FIX) == (409, "VISIT_FIRST")
    assert await code("visit", VISIT, COLLEAGUE) == (403, "NOT_FOLLOW_UP_OWNER")
    assert await code("visit", VISIT, ELSEWHERE) == (403, "TOWNSHIP_FORBIDDEN")
    assert await code("visit", VISIT | {"resident_said": " "}) == (422, "VISIT_FINDING_REQUIRED")
    assert await code("visit", VISIT | {"reached": False}) == (422, "VISIT_FINDING_WITHOUT_CONTACT")
    assert (await code("visit", VISIT | {"resident_said": "说\x07了"}))[0] == 422
    assert (await code("visit", VISIT | {"means": "carrier_pigeon"}))[0] == 422
    unknown = await client.post(f"/api/v1/cases/{submitted.case_id}/follow-ups/{uuid4()}/visit", json=VISIT,
                                headers=HEAD)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "FOLLOW_UP_NOT_FOUND")
    other_case = await client.post(f"/api/v1/cases/{uuid4()}/follow-ups/{bad.event_id}/visit", json=VISIT, headers=HEAD)
    assert other_case.json()["code"] == "FOLLOW_UP_NOT_FOUND"

    visited = await client.post(f"{url}/visit", json=VISIT, headers=OWNER)
    assert visited.status_code == 200, visited.text
    assert (visited.json()["stage"], visited.json()["visit_on_time"]) == ("rectification", True)
    assert await code("visit", VISIT) == (409, "VISIT_ALREADY_RECORDED")
    assert await code("rectification", FIX | {"measures": "  "}) == (422, "RECTIFICATION_INCOMPLETE")
    assert (await code("rectification", FIX | {"evidence": ["证"] * 11}))[0] == 422
    fixed = await client.post(f"{url}/rectification", json=FIX, headers=HEAD)
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["stage"], fixed.json()["closed"], fixed.json()["rectified_by"]) == ("done", True, "qs-head")
    assert await code("rectification", FIX) == (409, "RECTIFICATION_ALREADY_RECORDED")
    assert await code("appeal", APPEAL) == (409, "ALREADY_RECTIFIED")

    [(recorded, _)] = await wait_for_events(infra.kafka_bootstrap, FollowUpRecorded, submitted)
    assert recorded["payload"]["complaint_holds"] is True and recorded["payload"]["staff_id"] == OWNER_ID
    [(rectified, _)] = await wait_for_events(infra.kafka_bootstrap, RectificationRecorded, submitted)
    assert rectified["payload"]["evidence"] == FIX["evidence"] and rectified["payload"]["rate_again"] is True
    async with runtime.pool.acquire() as conn:
        left = await conn.fetchval("SELECT count(*) FROM deadline_timers WHERE case_id = $1 AND fired_at IS NULL",
                                   bad.event_id)
    assert left == 0
    assert str(bad.event_id) not in {f["rating_event_id"] for f in
                                     (await client.get("/api/v1/follow-ups", headers=OWNER)).json()["follow_ups"]}


async def test_a_bad_second_rating_after_the_rectification_opens_its_own_follow_up(routing, infra):
    client, runtime = routing
    submitted = await completed_case(client, infra.kafka_bootstrap)
    first = rated(submitted, 2)
    await publish(infra.kafka_bootstrap, first)
    await follow_ups_of(client, submitted)
    url = f"/api/v1/cases/{submitted.case_id}/follow-ups/{first.event_id}"
    assert (await client.post(f"{url}/visit", json=VISIT, headers=OWNER)).status_code == 200
    assert (await client.post(f"{url}/rectification", json=FIX, headers=OWNER)).status_code == 200
    second = rated(submitted, 1, follows=first)
    await publish(infra.kafka_bootstrap, second)
    views = await follow_ups_of(client, submitted, count=2)
    assert [(v["rating_event_id"], v["rating_round"], v["stage"]) for v in views] == [
        (str(first.event_id), 1, "done"), (str(second.event_id), 2, "visit")]
    async with runtime.pool.acquire() as conn:
        armed = await conn.fetchval("SELECT count(*) FROM deadline_timers WHERE case_id = $1 AND fired_at IS NULL",
                                    second.event_id)
    assert armed >= 2  # at least each step's breach; a warning too unless its time is already past


async def test_an_appeal_once_by_the_owner_decided_once_by_another_centre_head(routing, infra):
    client, runtime = routing
    submitted = await completed_case(client, infra.kafka_bootstrap)
    bad = rated(submitted, 1)
    await publish(infra.kafka_bootstrap, bad)
    await follow_ups_of(client, submitted)
    url = f"/api/v1/cases/{submitted.case_id}/follow-ups/{bad.event_id}"

    async def code(verb: str, body: dict, headers: dict) -> tuple[int, str]:
        resp = await client.post(f"{url}/{verb}", json=body, headers=headers)
        return resp.status_code, resp.json().get("code", "")

    assert await code("appeal-decision", DECISION, HEAD) == (409, "NOT_APPEALED")
    assert await code("appeal", APPEAL, HEAD) == (403, "NOT_FOLLOW_UP_OWNER")
    assert await code("appeal", APPEAL | {"reason": " "}, OWNER) == (422, "FOLLOW_UP_REASON_REQUIRED")
    assert await code("appeal", APPEAL, OWNER) == (200, "")
    assert await code("appeal", APPEAL | {"ground": "malicious"}, OWNER) == (409, "APPEAL_ALREADY_MADE")
    assert await code("appeal-decision", DECISION, OWNER) == (403, "ROLE_FORBIDDEN")
    assert await code("appeal-decision", DECISION, ELSEWHERE) == (403, "TOWNSHIP_FORBIDDEN")
    decided = await client.post(f"{url}/appeal-decision", json=DECISION, headers=HEAD)
    assert decided.status_code == 200, decided.text
    assert (decided.json()["appeal_upheld"], decided.json()["appeal_decided_by"]) == (True, "qs-head")
    assert await code("appeal-decision", DECISION | {"upheld": False}, DEPUTY) == (409, "APPEAL_ALREADY_DECIDED")
    async with runtime.pool.acquire() as conn:
        keys = {r["deadline_key"] for r in await conn.fetch(
            "SELECT deadline_key FROM deadline_timers WHERE case_id = $1 AND fired_at IS NULL", bad.event_id)}
    assert keys == {FOLLOW_UP_VISIT}  # the upheld appeal ends the rectification's clock, not the visit's
    assert await code("visit", VISIT, OWNER) == (200, "")
    assert await code("rectification", FIX, OWNER) == (409, "APPEAL_UPHELD")
    [(appealed, _)] = await wait_for_events(infra.kafka_bootstrap, RatingAppealed, submitted)
    assert appealed["payload"]["appellant_staff_id"] == OWNER_ID
    [(decision, _)] = await wait_for_events(infra.kafka_bootstrap, RatingAppealDecided, submitted)
    assert decision["payload"]["upheld"] is True and decision["payload"]["decided_by"] == "qs-head"


async def test_the_appellant_centre_head_may_not_decide_their_own_appeal(routing, infra):
    client, _ = routing
    submitted = case_submitted()
    await publish(infra.kafka_bootstrap, submitted)

    async def routed():
        return (await client.get(f"/api/v1/cases/{submitted.case_id}", headers=HEAD)).status_code == 200
    await eventually(routed, what="routing to assign the case")
    done = await client.post(f"/api/v1/cases/{submitted.case_id}/complete",
                             json={"result": "granted", "note": "已办结"}, headers=HEAD)
    assert done.status_code == 200, done.text
    bad = rated(submitted, 2)
    await publish(infra.kafka_bootstrap, bad)
    [view] = await follow_ups_of(client, submitted)
    assert view["owner_staff_id"] == "qs-head"
    url = f"/api/v1/cases/{submitted.case_id}/follow-ups/{bad.event_id}"
    assert (await client.post(f"{url}/appeal", json=APPEAL, headers=HEAD)).status_code == 200
    own = await client.post(f"{url}/appeal-decision", json=DECISION, headers=HEAD)
    assert (own.status_code, own.json()["code"]) == (403, "APPELLANT_CANNOT_DECIDE")
    assert "申诉人" in own.json()["message"]
    assert (await client.post(f"{url}/appeal-decision", json=DECISION, headers=DEPUTY)).status_code == 200


async def test_the_visit_deadline_warns_then_breaches_once_to_the_owner(infra, make_database, tmp_path):
    clock_file = tmp_path / "clock-offset"
    clock_file.write_text("0")
    settings = _settings(await make_database("it_follow_up_timers"), infra.kafka_bootstrap,
                         BIANMIN_CLOCK_FILE=str(clock_file), deadline_scan_seconds=0.3,
                         follow_up_rectification_days=15)
    await start_group_at_end(infra.kafka_bootstrap, group_of(settings), [CaseSubmitted.TOPIC])
    app = create_app(settings)
    async with running_app(app) as client:
        runtime = app.state.runtime
        submitted = await completed_case(client, infra.kafka_bootstrap)
        bad = rated(submitted, 1)
        await publish(infra.kafka_bootstrap, bad)
        [view] = await follow_ups_of(client, submitted)
        async with runtime.pool.acquire() as conn:
            warn_at = await conn.fetchval("SELECT due_at FROM deadline_timers WHERE case_id = $1 AND deadline_key = $2"
                                          " AND kind = 'warning'", bad.event_id, FOLLOW_UP_VISIT)
        visit_due = datetime.fromisoformat(view["visit_due"])

        async def alerts(kind: str) -> int:
            async with runtime.pool.acquire() as conn:
                return await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1 AND event_type = $2",
                                           submitted.case_id, kind)

        clock_file.write_text(str((warn_at - datetime.now(UTC)).total_seconds() + 60))
        await eventually(lambda: alerts("DeadlineWarning"), what="the follow-up's DeadlineWarning")
        assert (await client.get(f"/api/v1/cases/{submitted.case_id}/follow-ups", headers=HEAD)).json()[
            "follow_ups"][0]["colour"] == "yellow"
        clock_file.write_text(str((visit_due - datetime.now(UTC)).total_seconds() + 60))
        await eventually(lambda: alerts("DeadlineBreached"), what="the follow-up's DeadlineBreached")
        since = submitted.occurred_at - timedelta(seconds=5)
        [(warning, _)] = await wait_for_events(infra.kafka_bootstrap, DeadlineWarning, submitted, since=since)
        [(breach, _)] = await wait_for_events(infra.kafka_bootstrap, DeadlineBreached, submitted, since=since)
        for alert in (warning, breach):
            p = alert["payload"]
            assert (p["deadline_kind"], p["deadline_key"], p["staff_id"], p["subject"], p["case_no"]) == (
                "follow_up", FOLLOW_UP_VISIT, OWNER_ID, "差评回访", submitted.payload.case_no)
        late = await client.get("/api/v1/follow-ups", headers=OWNER)
        assert late.json()["follow_ups"][0]["colour"] == "red"
        visited = await client.post(f"/api/v1/cases/{submitted.case_id}/follow-ups/{bad.event_id}/visit",
                                    json=VISIT, headers=OWNER)
        assert visited.json()["visit_on_time"] is False
        scanner = runtime.deps.deadline_scanner
        target = scanner.scans + 3

        async def scanned() -> bool:
            return scanner.scans >= target
        await eventually(scanned, what="three more scans")
        assert (await alerts("DeadlineWarning"), await alerts("DeadlineBreached")) == (1, 1)
        assert len(await read_events(infra.kafka_bootstrap, DeadlineBreached, submitted, since=since)) == 1
