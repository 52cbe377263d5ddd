"""The second rating (整改后再评价) against real PostgreSQL and Kafka: routing's RectificationRecorded asking for it
issues a second SMS link, handed to notify on the contact record; one round-2 rating through it or the status page,
published as CaseRated round 2 following the first, which stays; a second one and one not asked for are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.contacts import CaseContact
from contracts.envelope import Actor, new_event_id
from contracts.events import CaseAssigned, CaseAssignedPayload, CaseCompleted, CaseCompletedPayload, CaseRated
from contracts.rating_events import RectificationRecorded, RectificationRecordedPayload
from contracts.topics import INTAKE_CONTACTS
from services.intake import rating_links
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body
from services.kit.testing import (
    auth_header,
    consume_until,
    eventually,
    publish_events,
    running_app,
    start_group_at_end,
)

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="qs-social_security-01")
PAD = auth_header("window_pad", "qingshui", sub="pad-qs-window-3")
SECRET = "s" * 40
APPLICANT = {"X-Applicant-Phone": "13800138000"}  # case_body's number


@pytest.fixture(scope="module")
async def intake(infra, make_database):
    suffix = f"-r2-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(
        DATABASE_URL=await make_database("it_second_rating"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
        BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, rating_link_secret=SECRET, status_limit_per_address=1000,
        status_limit_per_case=1000)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app


def _routing_event(cls, case: dict, version: int, payload):
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="routing",
               case_id=UUID(case["case_id"]), stream_version=version, township_id="qingshui",
               actor=Actor(kind="staff", id="qs-social_security-01"), correlation_id=UUID(case["case_id"]),
               payload=payload)


async def _rated_badly(client, infra) -> tuple[dict, str]:
    """A case completed by routing's events and rated 不满意 from the status page; its first CaseRated's id."""
    resp = await client.post("/api/v1/cases", json=case_body(), headers=STAFF)
    assert resp.status_code == 201, resp.text
    case = resp.json()
    deadline = case["promised_deadline"]
    await publish_events(infra.kafka_bootstrap, _routing_event(CaseAssigned, case, 1, CaseAssignedPayload(
        department_code="social_security", department_name="社保站", promised_deadline=deadline)),
        _routing_event(CaseCompleted, case, 2, CaseCompletedPayload(
            department_code="social_security", result="granted", on_time=True, promised_deadline=deadline)))

    async def completed():
        return (await client.get(f"/api/v1/cases/{case['case_id']}", headers=STAFF)).json()["status"] == "completed"
    await eventually(completed, what="intake to apply CaseCompleted")
    rated = await client.post(f"/api/v1/cases/{case['case_no']}/status/rating", json={"score": 2, "comment": "材料重复交"},
                              headers=APPLICANT)
    assert rated.status_code == 201, rated.text
    first = await _rated_on_kafka(infra, case["case_id"], rating_round=1)
    return case, first["event_id"]


async def _rated_on_kafka(infra, case_id: str, *, rating_round: int) -> dict:
    def matches(record) -> bool:
        return (record.key == case_id.encode() and dict(record.headers)["event_type"] == b"CaseRated"
                and json.loads(record.value)["payload"].get("rating_round", 1) == rating_round)
    return json.loads((await consume_until(infra.kafka_bootstrap, CaseRated.TOPIC, matches)).value)


async def _rectified(infra, case: dict, *, rate_again: bool = True) -> None:
    await publish_events(infra.kafka_bootstrap, _routing_event(RectificationRecorded, case, 5, RectificationRecordedPayload(
        rating_event_id=uuid4(), measures="公示材料清单", answer_to_resident="已整改，感谢监督", rate_again=rate_again,
        staff_id="qs-social_security-01", on_time=True)))


def _again(case: dict) -> str:
    return f"/api/v1/cases/{case['case_no']}/status/rating-again"


async def test_a_rectification_asking_for_it_issues_a_second_link_that_rates_once_beside_the_first(intake, infra):
    client, app = intake
    case, first_id = await _rated_badly(client, infra)
    early = await client.post(_again(case), json={"score": 4}, headers=APPLICANT)
    assert (early.status_code, early.json()["code"]) == (409, "RATING_AGAIN_NOT_ASKED")

    await _rectified(infra, case)
    async with app.state.runtime.pool.acquire() as conn:
        row = await eventually(lambda: conn.fetchrow(
            "SELECT * FROM rating_links WHERE case_id = $1 AND rating_round = 2", UUID(case["case_id"])),
            what="the second link")
    assert row["used_at"] is None and row["issued_by"] == "system"
    assert timedelta(days=6, hours=23) < row["expires_at"] - datetime.now(UTC) <= timedelta(days=7)
    token = rating_links.make_token(SECRET.encode(), rating_links.LinkClaims(row["link_id"], row["expires_at"]))
    # to notify on the contact record, marked as the link to rate again
    record = await consume_until(infra.kafka_bootstrap, INTAKE_CONTACTS, lambda r: r.key == case["case_id"].encode()
                                 and r.value is not None and b'"rating_round":2' in r.value)
    assert CaseContact.model_validate_json(record.value).rating_link == rating_links.path_of(token)

    status = (await client.get(f"/api/v1/cases/{case['case_no']}/status", headers=APPLICANT)).json()
    assert status["can_rate_again"] and not status["can_rate"] and "欢迎您再次评价" in status["rating_text"]
    assert (await client.get(rating_links.path_of(token))).status_code == 200
    rated = await client.post(rating_links.path_of(token), json={"score": 4, "comment": "已改进"})
    assert rated.status_code == 201, rated.text
    assert rated.json()["channel"] == "sms_link" and not rated.json()["bad_rating"]

    second = await _rated_on_kafka(infra, case["case_id"], rating_round=2)
    assert second["payload"]["follows_rating_id"] == first_id and second["payload"]["score"] == 4
    assert second["actor"] == {"kind": "resident", "id": "anonymous"}
    status = (await client.get(f"/api/v1/cases/{case['case_no']}/status", headers=APPLICANT)).json()
    assert [(r["rating_round"], r["score"], r["level"]) for r in status["ratings"]] == [(1, 2, "不满意"), (2, 4, "满意")]
    assert not status["can_rate_again"] and "两次评价均已记录" in status["rating_text"]

    used = await client.post(rating_links.path_of(token), json={"score": 5})
    assert (used.status_code, used.json()["code"]) == (410, "RATING_LINK_USED")
    twice = await client.post(_again(case), json={"score": 5}, headers=APPLICANT)
    assert (twice.status_code, twice.json()["code"]) == (409, "ALREADY_RATED_AGAIN")
    async with app.state.runtime.pool.acquire() as conn:
        kept = await conn.fetchrow("SELECT rating_score, rating_event_id, second_rating_score FROM cases"
                                   " WHERE case_id = $1", UUID(case["case_id"]))
    assert (kept["rating_score"], str(kept["rating_event_id"]), kept["second_rating_score"]) == (2, first_id, 4)


async def test_the_status_page_rates_again_once_and_a_rectification_not_asking_opens_nothing(intake, infra):
    client, app = intake
    case, first_id = await _rated_badly(client, infra)
    await _rectified(infra, case, rate_again=False)
    await _rectified(infra, case)  # after the one that did not ask: the inbox takes them in order

    async def asked():
        status = (await client.get(f"/api/v1/cases/{case['case_no']}/status", headers=APPLICANT)).json()
        return status["can_rate_again"]
    await eventually(asked, what="the second round to open")
    rated = await client.post(_again(case), json={"score": 1, "comment": "还是没解决"}, headers=APPLICANT)
    assert rated.status_code == 201, rated.text
    assert rated.json()["bad_rating"] and rated.json()["channel"] == "status_page"
    second = await _rated_on_kafka(infra, case["case_id"], rating_round=2)
    assert second["payload"]["follows_rating_id"] == first_id
    twice = await client.post(_again(case), json={"score": 3}, headers=APPLICANT)
    assert (twice.status_code, twice.json()["code"]) == (409, "ALREADY_RATED_AGAIN")
    first_again = await client.post(f"/api/v1/cases/{case['case_no']}/status/rating", json={"score": 3},
                                    headers=APPLICANT)
    assert (first_again.status_code, first_again.json()["code"]) == (409, "CASE_ALREADY_RATED")


async def test_the_window_pad_takes_the_second_rating_in_person_and_staff_cannot_give_it(intake, infra):
    client, _ = intake
    case, first_id = await _rated_badly(client, infra)
    url = f"/api/v1/cases/{case['case_id']}/rating-again"
    early = await client.post(url, json={"score": 4}, headers=PAD)
    assert (early.status_code, early.json()["code"]) == (409, "RATING_AGAIN_NOT_ASKED")
    await _rectified(infra, case)

    async def asked():
        return (await client.get(f"/api/v1/cases/{case['case_no']}/status", headers=APPLICANT)).json()["can_rate_again"]
    await eventually(asked, what="the second round to open")
    refused = await client.post(url, json={"score": 5}, headers=STAFF)
    assert (refused.status_code, refused.json()["code"]) == (403, "STAFF_CANNOT_RATE")
    dimensions = {"overall": 5, "efficiency": 5, "competence": 4, "attitude": 5}
    rated = await client.post(url, json={"score": 5, "dimensions": dimensions}, headers=PAD)
    assert rated.status_code == 201, rated.text
    assert rated.json()["channel"] == "window_pad"
    second = await _rated_on_kafka(infra, case["case_id"], rating_round=2)
    assert second["payload"]["follows_rating_id"] == first_id and second["payload"]["dimensions"] == dimensions
    twice = await client.post(url, json={"score": 5}, headers=PAD)
    assert (twice.status_code, twice.json()["code"]) == (409, "ALREADY_RATED_AGAIN")
