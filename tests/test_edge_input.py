"""Hostile input through HTTP on real PostgreSQL and Kafka: refused as JSON, and nothing reaches the outbox."""

from __future__ import annotations

import tracemalloc
import uuid

import pytest

from services.audit.app import create_app as create_audit
from services.audit.settings import AuditSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import VALID_ID, case_body
from services.kit.testing import auth_header, eventually, publish_events, running_app, start_group_at_end
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings
from services.routing.tests.builders import case_submitted

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui")
INSPECTOR = auth_header("inspector", None)
MIB = 1024 * 1024


@pytest.fixture(scope="module")
async def services(infra, make_database):
    suffix = f"-edge-{uuid.uuid4().hex[:6]}"
    for name in ("intake", "routing", "audit"):
        await start_group_at_end(infra.kafka_bootstrap, f"bianmin-{name}{suffix}")
    common = {"KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap, "BIANMIN_CONSUMER_GROUP_SUFFIX": suffix}
    intake = create_intake(IntakeSettings(DATABASE_URL=await make_database("edge_intake"), **common))
    routing = create_routing(RoutingSettings(DATABASE_URL=await make_database("edge_routing"), **common))
    audit = create_audit(AuditSettings(DATABASE_URL=await make_database("edge_audit"), **common))
    async with running_app(intake) as intake_client, running_app(routing) as routing_client, \
            running_app(audit) as audit_client:
        yield {"intake": (intake_client, intake.state.runtime), "routing": (routing_client, routing.state.runtime),
               "audit": (audit_client, audit.state.runtime)}


async def _event_count(runtime) -> int:
    async with runtime.pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM events")


def _refused(resp, field: str, code: str) -> None:
    assert resp.status_code == 422, resp.text
    data = resp.json()
    assert data["code"] == code and field in data["message"], data
    assert [d["field"] for d in data["details"]] == [field]


def _applicant(**overrides) -> dict:
    return {"name": "张三", "id_number": VALID_ID, "phone": "13800138000"} | overrides


INTAKE_NUL_CASES = [
    (case_body(applicant=_applicant(name="张\x00三")), "applicant.name", "TEXT_UNSAFE_CHARACTER"),
    (case_body(village_id="dongcun\x00"), "village_id", "CODE_INVALID"),
    (case_body(item_code="SB-002\x00"), "item_code", "CODE_INVALID"),
    (case_body(township_id="qingshui\x00"), "township_id", "CODE_INVALID"),
    (case_body(materials=["id_card", "hukou\x00", "bank_card"]), "materials.1", "CODE_INVALID"),
    (case_body(applicant=_applicant(id_number=VALID_ID[:-1] + "\x00")), "applicant.id_number", "ID_CARD_INVALID"),
    (case_body(applicant=_applicant(phone="13800138000\x00")), "applicant.phone", "PHONE_INVALID"),
]


@pytest.mark.parametrize(("body", "field", "code"), INTAKE_NUL_CASES, ids=[c[1] for c in INTAKE_NUL_CASES])
async def test_nul_in_a_case_field_is_refused_and_nothing_is_appended(services, body, field, code):
    client, runtime = services["intake"]
    before = await _event_count(runtime)
    _refused(await client.post("/api/v1/cases", json=body, headers=STAFF), field, code)
    assert await _event_count(runtime) == before


async def test_odd_digits_in_id_number_and_phone_are_refused(services):
    client, runtime = services["intake"]
    before = await _event_count(runtime)
    for id_number in ("１１０１０５１９４９１２３１００２X", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "11010519491231002²"):
        resp = await client.post("/api/v1/cases", json=case_body(applicant=_applicant(id_number=id_number)),
                                 headers=STAFF)
        _refused(resp, "applicant.id_number", "ID_CARD_INVALID")
    for phone in ("１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠"):
        resp = await client.post("/api/v1/cases", json=case_body(applicant=_applicant(phone=phone)), headers=STAFF)
        _refused(resp, "applicant.phone", "PHONE_INVALID")
    assert await _event_count(runtime) == before


async def test_nul_in_a_rating_comment_is_refused(services):
    client, runtime = services["intake"]
    created = await client.post("/api/v1/cases", json=case_body(), headers=STAFF)
    assert created.status_code == 201, created.text
    before = await _event_count(runtime)
    resp = await client.post(f"/api/v1/cases/{created.json()['case_id']}/rating",
                             json={"score": 5, "comment": "很好\x00"}, headers=auth_header("window_pad", "qingshui"))
    _refused(resp, "comment", "TEXT_UNSAFE_CHARACTER")
    assert await _event_count(runtime) == before


@pytest.mark.parametrize(("action", "body", "field", "code"), [
    ("transfer", {"to_department_code": "civil_affairs", "reason": "属民政\x00业务"}, "reason", "TEXT_UNSAFE_CHARACTER"),
    ("transfer", {"to_department_code": "civil\x00affairs", "reason": "属民政业务"}, "to_department_code",
     "CODE_INVALID"),
    ("transfer", {"to_department_code": "civil_affairs", "reason": "属民政\u202e业务"}, "reason",
     "TEXT_UNSAFE_CHARACTER"),
    ("complete", {"result": "granted", "note": "已办结\x00"}, "note", "TEXT_UNSAFE_CHARACTER"),
])
async def test_nul_in_a_routing_field_is_refused_and_nothing_is_appended(services, infra, action, body, field, code):
    client, runtime = services["routing"]
    submitted = case_submitted()
    await publish_events(infra.kafka_bootstrap, submitted)

    async def assigned():
        return (await client.get(f"/api/v1/cases/{submitted.case_id}", headers=STAFF)).status_code == 200

    await eventually(assigned, what="routing to assign the case")
    before = await _event_count(runtime)
    _refused(await client.post(f"/api/v1/cases/{submitted.case_id}/{action}", json=body, headers=STAFF), field, code)
    assert await _event_count(runtime) == before


async def test_a_200_mib_streamed_body_is_refused_without_being_read(services):
    client, runtime = services["intake"]
    chunk, chunks, pulled = b" " * (64 * 1024), 200 * 16, 0

    async def body():
        nonlocal pulled
        for _ in range(chunks):
            pulled += 1
            yield chunk

    before = await _event_count(runtime)
    tracemalloc.start()
    try:
        resp = await client.post("/api/v1/cases", content=body(), headers={**STAFF, "content-type": "application/json"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.status_code == 413 and resp.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert pulled * len(chunk) < 1 * MIB < chunks * len(chunk)  # stopped reading at the limit, 200 MiB sent
    assert peak < 20 * MIB
    assert await _event_count(runtime) == before


async def test_a_declared_200_mib_body_is_refused_before_reading(services):
    client, _ = services["intake"]
    pulled = 0

    async def body():
        nonlocal pulled
        pulled += 1
        yield b"{}"

    resp = await client.post("/api/v1/cases", content=body(),
                             headers={**STAFF, "content-type": "application/json", "content-length": str(200 * MIB)})
    assert resp.status_code == 413 and resp.json()["code"] == "PAYLOAD_TOO_LARGE" and pulled == 0


async def test_malformed_json_bad_utf8_and_wrong_type_are_json_4xx(services):
    client, _ = services["intake"]
    json_type = {**STAFF, "content-type": "application/json"}
    broken = await client.post("/api/v1/cases", content=b'{"item_code": "SB-', headers=json_type)
    assert broken.status_code == 422 and broken.json()["code"] == "JSON_INVALID"
    latin = await client.post("/api/v1/cases", content='{"item_code": "é"}'.encode("latin-1"), headers=json_type)
    assert latin.status_code == 400 and latin.json()["code"] == "BAD_REQUEST"
    form = await client.post("/api/v1/cases", content=b"item_code=SB-002",
                             headers={**STAFF, "content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and form.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("param", ["after_seq", "limit"])
async def test_a_query_integer_of_2_to_the_64_is_422(services, param):
    client, _ = services["audit"]
    resp = await client.get("/api/v1/events", params={param: 2**64}, headers=INSPECTOR)
    _refused(resp, param, "VALIDATION_FAILED")
    assert resp.json()["details"][0]["type"] == "less_than_equal"
    both = await client.get("/api/v1/integrity", params={"checkpoint_seq": 2**64, "checkpoint_hash": "0" * 64},
                            headers=INSPECTOR)
    _refused(both, "checkpoint_seq", "VALIDATION_FAILED")


async def test_a_nul_in_a_query_code_is_422(services):
    client, _ = services["routing"]
    resp = await client.get("/api/v1/cases", params={"township_id": "qingshui\x00"}, headers=INSPECTOR)
    _refused(resp, "township_id", "CODE_INVALID")


async def test_unknown_path_and_method_are_json(services):
    client, _ = services["intake"]
    missing = await client.get("/api/v1/nope", headers=STAFF)
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    wrong = await client.delete("/api/v1/cases", headers=STAFF)
    assert wrong.status_code == 405 and wrong.json()["code"] == "METHOD_NOT_ALLOWED"
