"""Inspectors' queries, anomalies, figures and exports on real Kafka and PostgreSQL: a township's October is
published through Kafka, audit folds it into its read model, and each endpoint answers from it; every
answer is recorded as an AuditQueried that comes back through Kafka into the chain."""

from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import load_workbook

from services.audit.app import create_app
from services.audit.queries import encode_cursor
from services.audit.settings import AuditSettings
from services.audit.tests.inspection_builders import Township, october
from services.audit.tests.probes import INSPECTOR, publish
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration
EVENTS = "/api/v1/inspections/events"


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_inspect"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                             BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


@pytest.fixture(scope="module")
async def township(audit, infra) -> Township:
    """October in a township of its own, published on Kafka and folded into the read model."""
    _, runtime = audit
    t = october(Township())
    await publish(infra.kafka_bootstrap, t.events)
    ids = [e.event_id for e in t.events]

    async def folded():
        async with runtime.pool.acquire() as conn:
            n = await conn.fetchval("SELECT count(*) FROM audit_event_index i JOIN audit_log l ON l.seq = i.seq"
                                    " WHERE l.event_id = ANY($1::uuid[])", ids)
        return n == len(ids) or None

    await eventually(folded, timeout=60, what="the township's events in the read model")
    return t


def head(township: str) -> dict[str, str]:
    return auth_header("centre_head", township, sub=f"{township}-head")


async def test_events_by_case_number_type_department_staff_and_period_in_pages(audit, township):
    client, _ = audit
    t = township
    ours = {str(e.event_id) for e in t.events if e.case_id == t.cases["A"]}
    first = await client.get(EVENTS, params={"case_no": t.case_no("A"), "page_size": 4}, headers=INSPECTOR)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 4 and page["next_cursor"]
    rest = (await client.get(EVENTS, params={"case_no": t.case_no("A"), "page_size": 4, "cursor": page["next_cursor"]},
                             headers=INSPECTOR)).json()
    items = page["items"] + rest["items"]
    assert {i["event_id"] for i in items} == ours and rest["next_cursor"] is None
    assert [i["occurred_at"] for i in items] == sorted(i["occurred_at"] for i in items)
    assert {i["case_no"] for i in items} == {t.case_no("A")}

    def of(resp):
        assert resp.status_code == 200, resp.text
        return [(i["event_type"], i["case_id"]) for i in resp.json()["items"]]

    by_type = await client.get(EVENTS, params={"township_id": t.id, "event_type": "CaseTransferred"}, headers=INSPECTOR)
    assert of(by_type) == [("CaseTransferred", str(t.cases["A"]))]
    by_department = await client.get(EVENTS, params={"township_id": t.id, "department_code": "civil_affairs"},
                                     headers=INSPECTOR)
    assert of(by_department) == [("CaseTransferred", str(t.cases["A"])), ("CaseCompleted", str(t.cases["A"]))]
    by_staff = of(await client.get(EVENTS, params={"staff_id": t.second}, headers=INSPECTOR))
    assert by_staff == [("CaseCompleted", str(t.cases["A"]))]
    one_day = await client.get(EVENTS, params={"township_id": t.id, "from": "2026-10-13", "to": "2026-10-13",
                                               "event_type": "CaseCompleted"}, headers=INSPECTOR)
    assert of(one_day) == [("CaseCompleted", str(t.cases["A"]))]


async def test_case_lookup_by_number(audit, township):
    client, _ = audit
    t = township
    resp = await client.get(f"/api/v1/inspections/cases/{t.case_no('A')}", headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    [case] = resp.json()["cases"]
    assert case["case_id"] == str(t.cases["A"]) and case["township_id"] == t.id
    assert (case["department_code"], case["staff_id"]) == ("civil_affairs", t.second)  # the transfer's holder
    assert case["on_time"] is True and case["rating_score"] == 5 and case["transfers"] == 1
    assert case["resident_told_at"] is not None and case["completed_at"] is not None

    missing = await client.get("/api/v1/inspections/cases/NO-SUCH-CASE", headers=INSPECTOR)
    assert missing.status_code == 404 and missing.json()["code"] == "CASE_NO_NOT_FOUND"
    assert "办件编号" in missing.json()["message"]
    by_no = await client.get(EVENTS, params={"case_no": "NO-SUCH-CASE"}, headers=INSPECTOR)
    assert by_no.status_code == 404 and by_no.json()["code"] == "CASE_NO_NOT_FOUND"


@pytest.mark.parametrize(("params", "code"), [
    ({"from": "2026-10-20", "to": "2026-10-01"}, "PERIOD_REVERSED"),
    ({"page_size": 201}, "PAGE_SIZE_TOO_LARGE"),
    ({"cursor": "bm90LWEtY3Vyc29y"}, "CURSOR_INVALID"),
    ({"page_size": 0}, "VALIDATION_FAILED"),
    ({"from": "2026-13-01"}, "VALIDATION_FAILED"),
])
async def test_bad_input_is_refused_with_a_stable_code(audit, params, code):
    client, _ = audit
    for url in (EVENTS, "/api/v1/inspections/anomalies/overdue_case"):
        resp = await client.get(url, params=params, headers=INSPECTOR)
        assert resp.status_code == 422 and resp.json()["code"] == code, (url, resp.text)
        assert resp.json()["message"]
    unknown = await client.get("/api/v1/inspections/anomalies/no_such_kind", headers=INSPECTOR)
    assert unknown.status_code == 422 and unknown.json()["code"] == "VALIDATION_FAILED"


async def test_who_may_look(audit, township):
    client, _ = audit
    t = township
    for role in ("staff", "village_agent"):
        refused = await client.get(EVENTS, params={"township_id": t.id}, headers=auth_header(role, t.id))
        assert refused.status_code == 403 and refused.json()["code"] == "ROLE_FORBIDDEN"
    assert (await client.get(EVENTS)).status_code == 401
    other = head("baishi")
    for url, params in ((EVENTS, {"township_id": t.id}), ("/api/v1/inspections/figures", {"township_id": t.id}),
                        ("/api/v1/inspections/anomalies/overdue_case", {"township_id": t.id}),
                        (f"/api/v1/inspections/cases/{t.case_no('A')}", {}), (EVENTS, {"case_no": t.case_no("A")})):
        resp = await client.get(url, params=params, headers=other)
        assert resp.status_code == 403 and resp.json()["code"] == "TOWNSHIP_FORBIDDEN", (url, resp.text)
    own = await client.get(EVENTS, params={"event_type": "CaseRejectedAtIntake"}, headers=head(t.id))
    assert [i["case_id"] for i in own.json()["items"]] == [str(t.cases["D"])]  # their own township, unasked


async def anomaly(client, kind: str, township: str) -> list[dict]:
    resp = await client.get(f"/api/v1/inspections/anomalies/{kind}", params={"township_id": township},
                            headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    assert resp.json()["kind"] == kind and resp.json()["label"]
    return resp.json()["items"]


async def test_each_anomaly_with_its_evidence(audit, township):
    client, _ = audit
    t = township
    by_id = {e.event_id: e for e in t.events}

    def evidence_types(item):
        assert all(e["seq"] for e in item["evidence"])  # each is a record of the chain
        return [by_id[uuid.UUID(e["event_id"])].event_type for e in item["evidence"]]

    overdue = {i["case_no"]: i for i in await anomaly(client, "overdue_case", t.id)}
    assert set(overdue) == {t.case_no("B"), t.case_no("C")}
    assert "仍未办结" in overdue[t.case_no("B")]["summary"] and "逾期办结" in overdue[t.case_no("C")]["summary"]
    assert evidence_types(overdue[t.case_no("B")]) == ["DeadlineBreached", "CaseSubmitted"]
    assert overdue[t.case_no("B")]["staff_id"] == t.clerk

    [ping] = await anomaly(client, "ping_pong", t.id)
    assert ping["case_no"] == t.case_no("B") and evidence_types(ping) == ["CaseFlagged"]
    [told_twice] = await anomaly(client, "second_notice", t.id)
    assert told_twice["case_no"] == t.case_no("B") and evidence_types(told_twice) == ["MaterialsRequested"]
    [refusal] = await anomaly(client, "refusal_without_centre_head", t.id)
    assert refusal["case_no"] == t.case_no("D") and t.clerk in refusal["summary"]
    assert evidence_types(refusal) == ["CaseRejectedAtIntake"]
    for kind in ("bad_rating_without_follow_up", "rectification_overdue"):
        [bad] = await anomaly(client, kind, t.id)
        assert bad["case_no"] == t.case_no("C") and evidence_types(bad) == ["CaseRated"]
    [untold] = await anomaly(client, "completed_without_resident_told", t.id)
    assert untold["case_no"] == t.case_no("C") and evidence_types(untold) == ["CaseCompleted"]
    [absent] = await anomaly(client, "absent_on_market_day", t.id)
    assert absent["staff_id"] == t.clerk and "逢场天" in absent["summary"]
    assert evidence_types(absent) == ["StaffAbsenceRecorded"] and absent["department_code"] == "social_security"
    [complaint] = await anomaly(client, "complaint_unanswered", t.id)
    assert complaint["case_id"] == str(t.complaint) and evidence_types(complaint) == ["ComplaintRegistered"]
    [worst] = await anomaly(client, "top_breaching_staff", t.id)
    assert (worst["staff_id"], worst["count"]) == (t.clerk, 3)  # cases B and C overdue, one absence
    assert sorted(evidence_types(worst)) == ["CaseCompleted", "DeadlineBreached", "StaffAbsenceRecorded"]

    outside = await client.get("/api/v1/inspections/anomalies/overdue_case", headers=INSPECTOR,
                               params={"township_id": t.id, "from": "2026-11-01"})
    assert outside.json()["items"] == []


async def test_figures_per_township_and_staff(audit, township):
    client, _ = audit
    t = township
    resp = await client.get("/api/v1/inspections/figures", headers=INSPECTOR,
                            params={"township_id": t.id, "by": "township", "period": "month"})
    assert resp.status_code == 200, resp.text
    [october_row] = resp.json()["rows"]
    assert october_row["key"] == t.id and october_row["period_start"] == "2026-10-01"
    assert (october_row["cases"], october_row["completed"], october_row["on_time"]) == (3, 2, 1)
    assert (october_row["on_time_rate"], october_row["satisfaction_rate"], october_row["follow_up_rate"]) == (0.5, 0.5, 0.0)
    assert (october_row["ratings"], october_row["bad_ratings"]) == (2, 1)
    staff = await client.get("/api/v1/inspections/figures", headers=head(t.id), params={"by": "staff", "period": "week"})
    keys = {(r["key"], r["period_start"]) for r in staff.json()["rows"]}
    assert (t.clerk, "2026-10-12") in keys and (t.second, "2026-10-12") in keys


async def test_excel_export_holds_the_rows_and_who_exported(audit, township):
    client, _ = audit
    t = township
    resp = await client.get(EVENTS, params={"case_no": t.case_no("A"), "format": "xlsx"}, headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = load_workbook(io.BytesIO(resp.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "审计事件查询" and "inspector-01" in rows[1][0] and t.case_no("A") in rows[2][0]
    assert rows[3][:3] == ("审计序号", "发生时间（北京时间）", "乡镇")
    assert {r[8] for r in rows[4:]} == {str(e.event_id) for e in t.events if e.case_id == t.cases["A"]}

    anomalies = await client.get("/api/v1/inspections/anomalies/overdue_case",
                                 params={"township_id": t.id, "format": "xlsx"}, headers=head(t.id))
    listed = list(load_workbook(io.BytesIO(anomalies.content)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in listed[4:]) == [t.case_no("B"), t.case_no("C")]
    figures = await client.get("/api/v1/inspections/figures", params={"township_id": t.id, "format": "xlsx"},
                               headers=INSPECTOR)
    assert list(load_workbook(io.BytesIO(figures.content)).active.iter_rows(values_only=True))[4][0] == t.id


async def test_every_answer_is_recorded_in_the_chain(audit, township):
    client, _ = audit
    t = township
    viewer = auth_header("inspector", None, sub=f"inspector-{t.id}")
    assert (await client.get(f"/api/v1/inspections/cases/{t.case_no('C')}", headers=viewer)).status_code == 200
    assert (await client.get(EVENTS, params={"case_no": t.case_no("C"), "format": "xlsx"},
                             headers=viewer)).status_code == 200

    async def recorded():
        resp = await client.get(EVENTS, params={"township_id": t.id, "event_type": "AuditQueried", "page_size": 200},
                                headers=INSPECTOR)
        mine = [i for i in resp.json()["items"] if i["actor"]["id"] == f"inspector-{t.id}"]
        return mine if len(mine) == 2 else None

    records = await eventually(recorded, timeout=60, what="the access records in the audit chain")
    assert {r["payload"]["query"] for r in records} == {"inspection_case", "inspection_events.xlsx"}
    for r in records:
        assert r["payload"]["case_ids"] == [str(t.cases["C"])] or str(t.cases["C"]) in r["payload"]["case_ids"]
        assert r["actor"]["kind"] == "inspector" and r["seq"] > 0


@pytest.mark.parametrize("cursor", [["2026-10-12T02:00:00+00:00", "x1"], ["2026-10-12T02:00:00", "1"], ["x", "1"],
                                    ["2026-10-12T02:00:00+00:00", "9" * 30]])
async def test_a_forged_cursor_is_refused(audit, cursor):
    client, _ = audit
    resp = await client.get(EVENTS, params={"cursor": encode_cursor(*cursor)}, headers=INSPECTOR)
    assert resp.status_code == 422 and resp.json()["code"] == "CURSOR_INVALID", resp.text
    top = await client.get("/api/v1/inspections/anomalies/top_breaching_staff", params={"cursor": encode_cursor("-1")},
                           headers=INSPECTOR)
    assert top.status_code == 422 and top.json()["code"] == "CURSOR_INVALID"


async def test_dates_outside_the_logs_years_are_refused(audit):
    client, _ = audit
    for day in ("1999-12-31", "9999-12-31"):
        resp = await client.get(EVENTS, params={"to": day}, headers=INSPECTOR)
        assert resp.status_code == 422 and resp.json()["code"] == "VALIDATION_FAILED"
