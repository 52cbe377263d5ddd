"""The accountability ledger on real Kafka and PostgreSQL: recorded by inspectors, chained, read and exported."""

from __future__ import annotations

import io
import json
import uuid
from uuid import uuid4

import openpyxl
import pytest

from contracts.inspection_events import ledger_stream_id
from services.audit import workbook
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, completed, submitted
from services.audit.tests.probes import INSPECTOR, history_of, publish
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration
HEAD_QS = auth_header("centre_head", "qingshui", sub="head-qs")
HEAD_OTHER = auth_header("centre_head", "dongshan", sub="head-ds")
STAFF = auth_header("staff", "qingshui", sub="qs-social_security-01", department_code="social_security")
ADMIN = auth_header("admin", None, sub="admin-01")


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_ledger"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                            BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


@pytest.fixture(scope="module")
async def case(audit, infra):
    client, _ = audit
    case_id = uuid4()
    events = [submitted(case_id), assigned(case_id, version=1), completed(case_id, version=2)]
    await publish(infra.kafka_bootstrap, events)
    await history_of(client, case_id, events)
    return case_id, events


def _body(case, events, **changes) -> dict:
    return {"township_id": "qingshui", "case_id": str(case), "finding": "overdue_case",
            "measure": "admonition_talk", "staff_id": f"qs-social_security-{uuid4().hex[:6]}",
            "description": "该件超期 3 个工作日，经核实系承办人无故拖延",
            "evidence_event_ids": [str(e.event_id) for e in events[1:]], "decided_on": "2026-11-20", **changes}


async def _listed(client, staff_id: str, headers=INSPECTOR, **params) -> list[dict]:
    async def probe():
        resp = await client.get("/api/v1/accountability", params={"staff_id": staff_id, **params}, headers=headers)
        assert resp.status_code == 200, resp.text
        return resp.json()["entries"] or None
    return await eventually(probe, what=f"the ledger entry about {staff_id}")


async def test_an_inspectors_entry_is_chained_and_listed(audit, case):
    client, runtime = audit
    case_id, events = case
    body = _body(case_id, events)
    resp = await client.post("/api/v1/accountability", json=body, headers=INSPECTOR)
    assert resp.status_code == 201, resp.text
    recorded = resp.json()
    assert recorded["case_id"] == str(case_id) and recorded["replayed"] is False

    [entry] = await _listed(client, body["staff_id"])
    assert entry["event_id"] == recorded["event_id"] and entry["measure_label"] == "诫勉谈话"
    assert entry["case_id"] == str(case_id) and entry["evidence_event_ids"] == body["evidence_event_ids"]
    assert entry["recorded_by"] == {"kind": "inspector", "id": "inspector-01", "label": "纪检监察人员"}
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT case_id, source, envelope FROM audit_log WHERE event_id = $1",
                                  uuid.UUID(recorded["event_id"]))
    assert (row["case_id"], row["source"]) == (case_id, "audit")
    assert json.loads(row["envelope"])["payload"]["description"] == body["description"]

    [seen] = await _listed(client, body["staff_id"], headers=HEAD_QS)
    assert seen["event_id"] == recorded["event_id"]
    other = await client.get("/api/v1/accountability", params={"staff_id": body["staff_id"]}, headers=HEAD_OTHER)
    assert other.status_code == 200 and other.json()["entries"] == []
    refused = await client.get("/api/v1/accountability", params={"township_id": "qingshui"}, headers=HEAD_OTHER)
    assert refused.status_code == 403 and refused.json()["code"] == "TOWNSHIP_FORBIDDEN"

    async def read_recorded():
        async with runtime.pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE event_type = 'AuditQueried'"
                " AND (envelope::jsonb) -> 'payload' ->> 'query' = 'accountability'"
                " AND (envelope::jsonb) -> 'actor' ->> 'id' = 'head-qs'"
                " AND (envelope::jsonb) -> 'payload' -> 'case_ids' ? $1", str(case_id))
    assert await eventually(read_recorded, what="the head's read of the ledger in the chain") >= 1


async def test_a_finding_about_no_case_goes_on_the_townships_stream(audit, case):
    client, _ = audit
    case_id, events = case
    body = {**_body(case_id, events, measure="circulated_criticism"), "case_id": None}
    resp = await client.post("/api/v1/accountability", json=body, headers=INSPECTOR)
    assert resp.status_code == 201, resp.text
    assert resp.json()["case_id"] == str(ledger_stream_id("qingshui"))
    [entry] = await _listed(client, body["staff_id"])
    assert entry["case_id"] is None and entry["measure_label"] == "通报批评"


async def test_a_resent_entry_is_recorded_once(audit, case):
    client, _ = audit
    case_id, events = case
    body, key = _body(case_id, events), {"Idempotency-Key": f"ledger-{uuid4().hex}"}
    first = await client.post("/api/v1/accountability", json=body, headers=INSPECTOR | key)
    again = await client.post("/api/v1/accountability", json=body, headers=INSPECTOR | key)
    assert first.status_code == again.status_code == 201
    assert again.json() == {**first.json(), "replayed": True}
    changed = await client.post("/api/v1/accountability", json={**body, "measure": "warning"}, headers=INSPECTOR | key)
    assert changed.status_code == 422 and changed.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(await _listed(client, body["staff_id"])) == 1


async def test_bad_entries_are_refused_in_chinese(audit, case):
    client, _ = audit
    case_id, events = case
    cases = [
        (_body(case_id, events, evidence_event_ids=[str(uuid4())]), 422, "EVIDENCE_NOT_IN_LOG"),
        (_body(case_id, events, evidence_event_ids=[]), 422, "EVIDENCE_REQUIRED"),
        (_body(uuid4(), events), 404, "CASE_HISTORY_NOT_FOUND"),
        (_body(case_id, events, township_id="baishi"), 422, "CASE_TOWNSHIP_MISMATCH"),
        (_body(case_id, events, decided_on="2999-01-01"), 422, "DECIDED_ON_IN_FUTURE"),
        (_body(case_id, events, measure="dismissal"), 422, "VALIDATION_FAILED"),
        (_body(case_id, events, description="超期\u202e未办"), 422, "TEXT_UNSAFE_CHARACTER"),
    ]
    for body, status, code in cases:
        resp = await client.post("/api/v1/accountability", json=body, headers=INSPECTOR)
        assert (resp.status_code, resp.json()["code"]) == (status, code), resp.text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json()["message"])


async def test_only_inspectors_record(audit, case):
    client, _ = audit
    case_id, events = case
    for headers in (ADMIN, HEAD_QS, STAFF):
        resp = await client.post("/api/v1/accountability", json=_body(case_id, events), headers=headers)
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_FORBIDDEN"
    for path in ("/api/v1/accountability", "/api/v1/accountability/export"):
        resp = await client.get(path, headers=STAFF)
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_FORBIDDEN"


async def test_the_export_is_a_spreadsheet_excel_reads_in_chinese(audit, case):
    client, _ = audit
    case_id, events = case
    body = _body(case_id, events, description="=HYPERLINK(\"x\") 见附件")
    assert (await client.post("/api/v1/accountability", json=body, headers=INSPECTOR)).status_code == 201
    await _listed(client, body["staff_id"])
    resp = await client.get("/api/v1/accountability/export", params={"staff_id": body["staff_id"]}, headers=ADMIN)
    assert resp.status_code == 200 and resp.headers["content-type"] == workbook.MEDIA_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["责任追究台账"] and "处理方式" in rows[3]
    [entry] = rows[4:]
    assert "诫勉谈话" in entry and body["staff_id"] in entry
    # The note stays text: a cell the inspector typed as "=…" is not a formula Excel would run.
    cell = next(c for c in sheet[5] if isinstance(c.value, str) and c.value.startswith("=HYPERLINK"))
    assert cell.data_type == "s"
