"""Told twice only because the county changed the item in between: a flagged second notice, on real
PostgreSQL and Kafka, across a restart of intake with a revised catalogue; and the papers that result."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from contracts.events import CaseSubmitted
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import case_body, revised_catalogue
from services.intake.tests.document_events import pdf_text
from services.kit.testing import auth_header, consume_until, running_app, start_group_at_end

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui", sub="qs-general_window-01")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")


async def test_a_second_notice_only_for_what_the_county_added(infra, make_database, tmp_path):
    dsn = await make_database("it_second_notice")
    suffix = f"-second-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    common = dict(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)

    async with running_app(create_app(IntakeSettings(**common))) as client:
        first = (await client.post("/api/v1/cases", json=case_body(item_code="JY-001", materials=[]),
                                   headers=STAFF)).json()
        withdrawn = (await client.post("/api/v1/cases", json=case_body(item_code="JY-002", materials=[]),
                                       headers=STAFF)).json()
        assert withdrawn["status"] == "materials_requested"
        assert first["status"] == "materials_requested" and [o["code"] for o in first["owed"]] == ["id_card"]
        # Before the change, asking for anything the notice did not list is piecemeal telling.
        refused = await client.post(f"/api/v1/cases/{first['case_id']}/materials",
                                    json={"materials": ["id_card"], "additional": ["photo"]}, headers=STAFF)
        assert refused.status_code == 409 and refused.json()["code"] == "NOTICE_PIECEMEAL"

    # JY-001 now also needs the 户口簿; JY-002 is no longer offered.
    revised = revised_catalogue(tmp_path / "county.yaml", withdraw="JY-002")
    async with running_app(create_app(IntakeSettings(**common, catalogue_file=revised))) as client:
        case_id = first["case_id"]
        second = (await client.post(f"/api/v1/cases/{case_id}/materials", json={"materials": ["id_card"]},
                                    headers=STAFF)).json()
        assert (second["status"], second["notices_given"], second["second_notices"]) == ("materials_requested", 2, 1)
        assert [o["code"] for o in second["owed"]] == ["hukou"]
        notice = pdf_text((await client.get(f"/api/v1/cases/{case_id}/documents/notice-2.pdf", headers=STAFF)).content)
        assert "第二次告知" in notice and "户口簿" in notice
        done = (await client.post(f"/api/v1/cases/{case_id}/materials", json={"materials": ["hukou"]},
                                  headers=STAFF)).json()
        assert done["status"] == "submitted"
        receipt = pdf_text((await client.get(f"/api/v1/cases/{case_id}/documents/receipt.pdf", headers=STAFF)).content)
        assert first["case_no"] in receipt and "户口簿" in receipt and "居民身份证" in receipt
        view = (await client.get(f"/api/v1/cases/{case_id}", headers=STAFF)).json()
        assert (view["second_notices"], view["catalogue_version"]) == (1, "2026.12")
        listed = (await client.get("/api/v1/cases", params={"township_id": "qingshui", "flag": "second_notice"},
                                   headers=HEAD)).json()
        assert [(c["case_no"], c["notices_given"]) for c in listed["cases"]] == [(first["case_no"], 2)]

        # A case taken in before its item was withdrawn goes on under the version it was taken under.
        new = await client.post("/api/v1/cases", json=case_body(item_code="JY-002"), headers=STAFF)
        assert (new.status_code, new.json()["code"]) == (404, "ITEM_NOT_FOUND")
        owed = [o["code"] for o in withdrawn["owed"]]
        finished = await client.post(f"/api/v1/cases/{withdrawn['case_id']}/materials", json={"materials": owed},
                                     headers=STAFF)
        assert finished.json()["status"] == "submitted", finished.text

        # A refusal at intake and its paper: the centre head's, with reason and legal basis.
        other = (await client.post("/api/v1/cases", json=case_body(item_code="JY-001", materials=[]),
                                   headers=STAFF)).json()
        refusal = {"reason": "申请人已在户籍地领取就业创业证", "legal_basis": "《就业服务与就业管理规定》第六十三条"}
        assert (await client.post(f"/api/v1/cases/{other['case_id']}/rejection", json=refusal,
                                  headers=HEAD)).json()["status"] == "rejected"
        paper = pdf_text((await client.get(f"/api/v1/cases/{other['case_id']}/documents/rejection.pdf",
                                           headers=STAFF)).content)
        assert refusal["reason"] in paper and "行政复议" in paper and "qs-head" in paper

    seen: dict[int, dict] = {}

    def all_five(record) -> bool:
        if record.key == case_id.encode():
            body = json.loads(record.value)
            seen[body["stream_version"]] = body
        return len(seen) >= 5

    await consume_until(infra.kafka_bootstrap, CaseSubmitted.TOPIC, all_five)
    kinds = [seen[v]["event_type"] for v in sorted(seen)][:5]
    assert kinds == ["MaterialsRequested", "MaterialsSupplied", "MaterialsRequested", "MaterialsSupplied",
                     "CaseSubmitted"]
    notice_two = seen[3]["payload"]
    assert notice_two["second_notice"] and notice_two["requirements_changed_from"] == "2026.11-r2"
    assert notice_two["catalogue_version"] == "2026.12"
