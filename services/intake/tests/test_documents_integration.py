"""Printed documents over HTTP on real PostgreSQL and Kafka: rebuilt from the case's events in intake's stream."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import VALID_ID, case_body
from services.intake.tests.document_events import REASON, pdf_text
from services.kit.testing import auth_header, running_app, start_group_at_end

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui")
HEAD = auth_header("centre_head", "qingshui", sub="qs-head")
AGENT = auth_header("village_agent", "qingshui")
INSPECTOR = auth_header("inspector", None)


@pytest.fixture(scope="module")
async def intake(infra, make_database):
    suffix = f"-docs-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    settings = IntakeSettings(DATABASE_URL=await make_database("it_documents"), KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                              BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


def url(case_id, document: str) -> str:
    return f"/api/v1/cases/{case_id}/documents/{document}"


async def test_receipt_of_a_case_taken_in_at_the_window(intake):
    client, _ = intake
    created = (await client.post("/api/v1/cases", json=case_body(), headers=STAFF)).json()
    resp = await client.get(url(created["case_id"], "receipt.pdf"), headers=AGENT)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf" and resp.content.startswith(b"%PDF-")
    assert f'filename="receipt-{created["case_no"]}.pdf"' in resp.headers["content-disposition"]
    text = pdf_text(resp.content)
    for expected in ("受理回执", created["case_no"], "城乡居民养老保险待遇申领", "张三", "1101**********002X",
                     "居民身份证", "户口簿", "本人银行卡或存折", "近期免冠照片", "清水镇便民服务中心"):
        assert expected in text, expected
    assert VALID_ID not in text  # the full ID number is never printed
    for missing in ("notice-1.pdf", "rejection.pdf", "referral.pdf"):
        absent = await client.get(url(created["case_id"], missing), headers=STAFF)
        assert (absent.status_code, absent.json()["code"]) == (404, "DOCUMENT_NOT_FOUND"), missing
        assert "没有" in absent.json()["message"]


async def test_the_notice_and_the_rejection_of_a_case_not_accepted(intake):
    client, _ = intake
    body = case_body(materials=["id_card", "bank_card"], faulty=[{"code": "bank_card", "note": "须为本人名下的一类银行卡"}])
    noticed = (await client.post("/api/v1/cases", json=body, headers=STAFF)).json()
    case_id = noticed["case_id"]
    first = await client.get(url(case_id, "notice-1.pdf"), headers=INSPECTOR)
    assert first.status_code == 200, first.text
    text = pdf_text(first.content)
    assert f"{noticed['case_no']}-告1" in text and "户口簿" in text and "须为本人名下的一类银行卡" in text
    assert "第二次告知" not in text  # the second notice's paper: test_second_notice_integration
    refused = await client.post(f"/api/v1/cases/{case_id}/rejection", headers=HEAD,
                                json={"reason": REASON, "legal_basis": "《行政许可法》第三十二条第一款第（二）项"})
    assert refused.status_code == 200, refused.text
    rejection = pdf_text((await client.get(url(case_id, "rejection.pdf"), headers=STAFF)).content)
    assert REASON in rejection and "行政复议" in rejection and "qs-head" in rejection

    receipt = await client.get(url(case_id, "receipt.pdf"), headers=STAFF)
    assert (receipt.status_code, receipt.json()["code"]) == (404, "DOCUMENT_NOT_FOUND")
    assert receipt.json()["message"] == "该办件尚未受理，没有受理回执"
    third = await client.get(url(case_id, "notice-3.pdf"), headers=STAFF)
    assert third.status_code == 404 and third.json()["message"] == "该办件没有第3号一次性告知书"


async def test_referral(intake):
    client, _ = intake
    referred = await client.post("/api/v1/referrals", headers=STAFF, json={
        "township_id": "qingshui", "matter": "办理不动产登记", "referred_to": "县政务服务中心不动产登记窗口",
        "address": "县城人民路8号", "office_hours": "工作日 9:00-17:00"})
    assert referred.status_code == 201, referred.text
    resp = await client.get(url(referred.json()["referral_id"], "referral.pdf"), headers=STAFF)
    assert resp.status_code == 200, resp.text
    assert "县政务服务中心不动产登记窗口" in pdf_text(resp.content)


async def test_unknown_cases_other_townships_and_bad_numbers(intake):
    client, _ = intake
    unknown = await client.get(url(uuid4(), "receipt.pdf"), headers=STAFF)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "CASE_NOT_FOUND")
    theirs = (await client.post("/api/v1/cases", json=case_body(township_id="baishi", materials=[]),
                                headers=auth_header("staff", "baishi"))).json()["case_id"]
    other = await client.get(url(theirs, "notice-1.pdf"), headers=STAFF)
    assert (other.status_code, other.json()["code"]) == (403, "TOWNSHIP_FORBIDDEN")
    for bad in ("notice-0.pdf", "notice-x.pdf", "notice-99999999999999999999.pdf"):
        resp = await client.get(url(theirs, bad), headers=INSPECTOR)
        assert resp.status_code == 422 and resp.json()["code"] == "VALIDATION_FAILED", bad
    assert (await client.get(url("not-a-uuid", "receipt.pdf"), headers=STAFF)).status_code == 422
    assert (await client.get(url(theirs, "notice-1.pdf"))).status_code == 401
