"""Printed documents over HTTP on real PostgreSQL and Kafka: rebuilt from the case's events in intake's stream."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.builders import VALID_ID, case_body
from services.intake.tests.document_events import REASON, append_case, pdf_text, referred, rejected, requested
from services.kit.testing import auth_header, running_app, start_group_at_end

pytestmark = pytest.mark.integration
STAFF = auth_header("staff", "qingshui")
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


async def test_notices_and_rejection_of_a_case_not_accepted(intake):
    client, runtime = intake
    case_id = await append_case(runtime.pool, requested(1), requested(2, second=True), rejected())
    first = await client.get(url(case_id, "notice-1.pdf"), headers=STAFF)
    second = await client.get(url(case_id, "notice-2.pdf"), headers=INSPECTOR)
    assert first.status_code == second.status_code == 200
    first_text, second_text = pdf_text(first.content), pdf_text(second.content)
    assert "QS-20261124-0007-告1" in first_text and "本人银行卡或存折" in first_text and "户口簿" in first_text
    assert "第二次告知" not in first_text and "第二次告知" in second_text
    rejection = pdf_text((await client.get(url(case_id, "rejection.pdf"), headers=STAFF)).content)
    assert REASON in rejection and "行政复议" in rejection and "qs-head" in rejection

    receipt = await client.get(url(case_id, "receipt.pdf"), headers=STAFF)
    assert (receipt.status_code, receipt.json()["code"]) == (404, "DOCUMENT_NOT_FOUND")
    assert receipt.json()["message"] == "该办件尚未受理，没有受理回执"
    third = await client.get(url(case_id, "notice-3.pdf"), headers=STAFF)
    assert third.status_code == 404 and third.json()["message"] == "该办件没有第3号一次性告知书"


async def test_referral(intake):
    client, runtime = intake
    case_id = await append_case(runtime.pool, referred())
    resp = await client.get(url(case_id, "referral.pdf"), headers=STAFF)
    assert resp.status_code == 200, resp.text
    assert "县政务服务中心不动产登记窗口" in pdf_text(resp.content)


async def test_unknown_cases_other_townships_and_bad_numbers(intake):
    client, runtime = intake
    unknown = await client.get(url(uuid4(), "receipt.pdf"), headers=STAFF)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "CASE_NOT_FOUND")
    theirs = await append_case(runtime.pool, requested(1), township_id="baishi")
    other = await client.get(url(theirs, "notice-1.pdf"), headers=STAFF)
    assert (other.status_code, other.json()["code"]) == (403, "TOWNSHIP_FORBIDDEN")
    for bad in ("notice-0.pdf", "notice-x.pdf", "notice-99999999999999999999.pdf"):
        resp = await client.get(url(theirs, bad), headers=INSPECTOR)
        assert resp.status_code == 422 and resp.json()["code"] == "VALIDATION_FAILED", bad
    assert (await client.get(url("not-a-uuid", "receipt.pdf"), headers=STAFF)).status_code == 422
    assert (await client.get(url(theirs, "notice-1.pdf"))).status_code == 401
