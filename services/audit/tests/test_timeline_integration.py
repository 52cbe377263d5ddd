"""The timeline, the history's access record and the access log, on real Kafka and PostgreSQL."""

from __future__ import annotations

import io
import json
import uuid
from uuid import uuid4

import pypdf
import pytest

from contracts.envelope import Actor
from contracts.events import DeadlinePayload, DeadlineWarning
from contracts.inspection_events import ACCESS_LOG_ID
from services.audit import commands, merkle, store
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.builders import DEADLINE, T0, _envelope, assigned, completed, submitted
from services.audit.tests.probes import INSPECTOR, history_of, publish
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration
HEAD_QS = auth_header("centre_head", "qingshui", sub="head-qs")
HEAD_OTHER = auth_header("centre_head", "dongshan", sub="head-ds")
STAFF = auth_header("staff", "qingshui", sub="qs-social_security-01", department_code="social_security")


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_timeline"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                            BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


@pytest.fixture(scope="module")
async def case(audit, infra):
    """A case submitted, assigned, warned and completed, in the log."""
    client, _ = audit
    case_id = uuid4()
    warning = _envelope(DeadlineWarning, case_id, source="routing", version=2, township="qingshui", minutes=2,
                        actor=Actor(kind="system", id="routing"),
                        payload=DeadlinePayload(department_code="social_security", promised_deadline=DEADLINE,
                                                detected_at=T0))
    events = [submitted(case_id), assigned(case_id, version=1), warning, completed(case_id, version=3)]
    await publish(infra.kafka_bootstrap, events)
    await history_of(client, case_id, events)
    return case_id, events


async def _access_records(runtime, case_id, query: str) -> list[dict]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT envelope FROM audit_log WHERE event_type = 'AuditQueried' AND case_id = $1"
                                " AND (envelope::jsonb) -> 'payload' -> 'case_ids' ? $2", ACCESS_LOG_ID, str(case_id))
    return [e for e in (json.loads(r["envelope"]) for r in rows) if e["payload"]["query"] == query]


async def test_timeline_labels_times_and_deadline_states(audit, case):
    client, _ = audit
    case_id, events = case
    resp = await client.get(f"/api/v1/cases/{case_id}/timeline", headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    ours = [e for e in body["events"] if e["event_id"] in {str(x.event_id) for x in events}]
    assert [e["label"] for e in ours] == ["受理登记", "分派承办", "临期预警", "办结"]
    assert [e["deadline_state"] for e in ours] == ["green", "green", "yellow", "completed_on_time"]
    assert ours[0]["occurred_at"] == "2026-11-23T10:00:00+08:00" and ours[0]["occurred_at_utc"].startswith(
        "2026-11-23T02:00:00")
    assert ours[0]["actor"] == {"kind": "staff", "id": "staff-0001", "label": "窗口工作人员"}
    assert ours[1]["summary"] == "分派至社保站，承办人staff-0012"
    assert body["case"]["status"] == "completed" and body["case"]["status_label"] == "已办结"


async def test_timeline_as_of_shows_the_case_as_it_stood(audit, case):
    client, _ = audit
    case_id, _ = case
    resp = await client.get(f"/api/v1/cases/{case_id}/timeline", params={"as_of": "2026-11-23T10:01:30"},
                            headers=HEAD_QS)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["as_of"] == "2026-11-23T10:01:30+08:00"
    assert (body["case"]["status"], body["case"]["holder"], body["case"]["deadline_state"]) == (
        "assigned", "staff-0012", "green")
    assert [e["label"] for e in body["events"]] == ["受理登记", "分派承办"]


async def test_timeline_refuses_future_and_unreadable_instants_and_unknown_cases(audit, case):
    client, _ = audit
    case_id, _ = case
    future = await client.get(f"/api/v1/cases/{case_id}/timeline", params={"as_of": "2999-01-01T00:00:00+08:00"},
                              headers=INSPECTOR)
    assert future.status_code == 422 and future.json()["code"] == "AS_OF_IN_FUTURE"
    assert "截至时间" in future.json()["message"]
    early = await client.get(f"/api/v1/cases/{case_id}/timeline", params={"as_of": "0001-01-01T00:00:00+14:00"},
                             headers=INSPECTOR)
    assert early.status_code == 422 and early.json()["code"] == "AS_OF_TOO_EARLY"
    garbled = await client.get(f"/api/v1/cases/{case_id}/timeline", params={"as_of": "yesterday"}, headers=INSPECTOR)
    assert garbled.status_code == 422 and "as_of" in garbled.json()["message"]
    missing = await client.get(f"/api/v1/cases/{uuid4()}/timeline", headers=INSPECTOR)
    assert missing.status_code == 404 and missing.json()["code"] == "CASE_HISTORY_NOT_FOUND"
    assert missing.json()["message"] == "未找到该办件的审计记录"


async def test_timeline_is_refused_to_staff_and_to_another_townships_head(audit, case):
    client, _ = audit
    case_id, _ = case
    staff = await client.get(f"/api/v1/cases/{case_id}/timeline", headers=STAFF)
    assert staff.status_code == 403 and staff.json()["code"] == "ROLE_FORBIDDEN"
    other = await client.get(f"/api/v1/cases/{case_id}/timeline", headers=HEAD_OTHER)
    assert other.status_code == 403 and other.json()["code"] == "TOWNSHIP_FORBIDDEN"


async def test_reading_a_timeline_or_history_is_recorded_in_the_chain(audit, case):
    client, runtime = audit
    case_id, _ = case
    assert (await client.get(f"/api/v1/cases/{case_id}/timeline", headers=HEAD_QS)).status_code == 200
    assert (await client.get(f"/api/v1/cases/{case_id}/history", headers=HEAD_QS)).status_code == 200

    async def recorded():
        timeline = await _access_records(runtime, case_id, "case_timeline")
        history = await _access_records(runtime, case_id, "case_history")
        heads = [e for e in timeline + history if e["actor"] == {"kind": "centre_head", "id": "head-qs"}]
        return heads if {e["payload"]["query"] for e in heads} == {"case_timeline", "case_history"} else None

    heads = await eventually(recorded, what="the centre head's reads in the chain")
    assert all(e["township_id"] == "qingshui" and e["payload"]["viewer_township_id"] == "qingshui" for e in heads)


async def test_a_refused_read_leaves_no_record(audit, case):
    client, runtime = audit
    case_id, _ = case
    assert (await client.get(f"/api/v1/cases/{case_id}/timeline", headers=HEAD_OTHER)).status_code == 403
    async with runtime.pool.acquire() as conn:
        kept = await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1 AND body::jsonb -> 'actor' ->> 'id'"
                                   " = 'head-ds'", ACCESS_LOG_ID)
    assert kept == 0


async def test_access_log_is_read_by_inspectors_filtered_and_itself_recorded(audit, case):
    client, runtime = audit
    case_id, _ = case
    viewer = auth_header("inspector", None, sub=f"inspector-{uuid4().hex[:6]}")
    assert (await client.get(f"/api/v1/cases/{case_id}/timeline", headers=viewer)).status_code == 200


    async def listed():
        resp = await client.get("/api/v1/access-log", params={"case_id": str(case_id), "limit": 500},
                                headers=INSPECTOR)
        assert resp.status_code == 200, resp.text
        found = [r for r in resp.json()["records"] if r["viewer"]["kind"] == "inspector"
                 and r["viewer"]["id"] != "inspector-01"]
        return found or None

    [record] = await eventually(listed, what="the inspector's read in the access log")
    assert record["query"] == "case_timeline" and record["case_ids"] == [str(case_id)]
    assert record["viewer"]["label"] == "纪检监察人员" and record["result_count"] >= 4
    by_viewer = await client.get("/api/v1/access-log", params={"viewer": record["viewer"]["id"]}, headers=INSPECTOR)
    assert [r["event_id"] for r in by_viewer.json()["records"]] == [record["event_id"]]


    async def reading_recorded():
        async with runtime.pool.acquire() as conn:
            return await conn.fetchval("SELECT count(*) FROM audit_log WHERE event_type = 'AuditQueried'"
                                       " AND (envelope::jsonb) -> 'payload' ->> 'query' = 'access_log'"
                                       " AND (envelope::jsonb) -> 'payload' -> 'parameters' ->> 'viewer' = $1",
                                       record["viewer"]["id"])
    assert await eventually(reading_recorded, what="reading the access log, in the chain") >= 1


async def test_access_log_is_refused_to_centre_heads_and_staff_and_checks_the_period(audit):
    client, _ = audit
    for headers in (HEAD_QS, STAFF):
        resp = await client.get("/api/v1/access-log", headers=headers)
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_FORBIDDEN"
    bad = await client.get("/api/v1/access-log", params={"from": "2026-11-30", "to": "2026-11-01"}, headers=INSPECTOR)
    assert bad.status_code == 422 and bad.json()["code"] == "PERIOD_REVERSED" and "期间" in bad.json()["message"]


async def test_dossier_pdf_opens_with_chinese_text_and_its_read_is_recorded(audit, case):
    client, runtime = audit
    case_id, events = case
    resp = await client.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=HEAD_QS)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(resp.content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert "办件审计档案" in text and "QS-20261123-0001" in text and "临期预警" in text
    async with runtime.pool.acquire() as conn:
        hashes = await conn.fetch("SELECT hash FROM audit_log WHERE case_id = $1", case_id)
    assert all(r["hash"] in text for r in hashes)
    assert "签名树头与包含证明" in text

    async def recorded():
        return [e for e in await _access_records(runtime, case_id, "case_dossier")
                if e["actor"]["id"] == "head-qs"] or None
    await eventually(recorded, what="the dossier's read in the chain")


async def test_dossier_is_refused_to_staff_other_townships_and_unknown_cases(audit, case):
    client, _ = audit
    case_id, _ = case
    for headers, status, code in ((STAFF, 403, "ROLE_FORBIDDEN"), (HEAD_OTHER, 403, "TOWNSHIP_FORBIDDEN")):
        resp = await client.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=headers)
        assert (resp.status_code, resp.json()["code"]) == (status, code)
    missing = await client.get(f"/api/v1/cases/{uuid4()}/dossier.pdf", headers=INSPECTOR)
    assert missing.status_code == 404 and missing.json()["message"] == "未找到该办件的审计记录"


async def test_the_dossier_carries_each_records_inclusion_proof_against_the_signed_tree_head(audit, case):
    client, runtime = audit
    case_id, events = case
    head = await commands.append_checkpoint(runtime.pool, runtime.deps.signing_key, now=runtime.clock.now(), chunk=500)
    if head is None:  # nothing new since the last head: it covers the case already
        async with runtime.pool.acquire() as conn:
            head = await store.last_checkpoint(conn)
    assert head is not None and head.payload.root_hash is not None
    resp = await client.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=INSPECTOR)
    assert resp.status_code == 200
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(resp.content)).pages).replace("\n", "")
    assert head.payload.root_hash in text
    # Each proof printed is the one the API serves, and it verifies against the signed root.
    for event in events:
        served = await client.get("/api/v1/proofs/inclusion", params={"event_id": str(event.event_id),
                                                                      "checkpoint": head.stream_version},
                                  headers=INSPECTOR)
        proof = served.json()
        assert merkle.verify_inclusion(proof["leaf_index"], proof["tree_size"], bytes.fromhex(proof["leaf_hash"]),
                                       [bytes.fromhex(h) for h in proof["audit_path"]],
                                       bytes.fromhex(head.payload.root_hash))
        assert all(h in text for h in proof["audit_path"])
