"""Case 5: hostile input at every edge, then ordinary cases of every township, which must flow.

None of it may yield a 5xx or be accepted into the pipeline: NUL bytes in free text, a 100k-item
materials array, a 5 MB body, non-ASCII digits in the ID number, integers past 2^63 in queries."""

from __future__ import annotations

import httpx
import pytest

from services.kit.testing import auth_header, eventually
from tests.builders import id_number
from tests.faults.load import Load, ordinary_case, staff
from tests.faults.verdict import INSPECTOR, baseline, judge

pytestmark = pytest.mark.fault
NO_ANSWER = 599  # counted with the 5xx: a dropped connection is no refusal either
BIG = [2**63, 2**64 + 1, 10**30]
DIGITS = {"full-width": "０１２３４５６７８９", "superscript": "⁰¹²³⁴⁵⁶⁷⁸⁹", "arabic-indic": "٠١٢٣٤٥٦٧٨٩"}


def _with(body: dict, **applicant) -> dict:
    return {**body, "applicant": {**body["applicant"], **applicant}}


def hostile_submissions() -> dict[str, dict | bytes]:
    base = ordinary_case(77, "qingshui")
    bodies: dict[str, dict | bytes] = {
        "nul-in-name": _with(base, name="王\x00秀英"),
        "nul-in-village": {**base, "village_id": "v\x0001"},
        "materials-100k": {**base, "materials": base["materials"] * (100_000 // len(base["materials"]))},
        # Otherwise valid, padded with an unknown field: only a body size limit refuses it.
        "body-5mb": {**base, "padding": "x" * (5 * 1024 * 1024)},
    }
    for name, digits in DIGITS.items():
        bodies[f"id-{name}-digits"] = _with(base, id_number=id_number(78).translate(str.maketrans("0123456789", digits)))
    return bodies


async def _completed_case(client: httpx.AsyncClient, urls: dict[str, str]) -> tuple[str, list[tuple[str, int]]]:
    """An ordinary case taken through transfer (hostile reason first) and completion, for the rating."""
    headers = staff("qingshui")
    resp = await client.post(f"{urls['intake']}/api/v1/cases", json=ordinary_case(79, "qingshui"), headers=headers)
    assert resp.status_code == 201, resp.text
    case_id = resp.json()["case_id"]
    await eventually(lambda: _status(client, f"{urls['routing']}/api/v1/cases/{case_id}", headers), timeout=30,
                     what="routing to hold the case")
    view = (await client.get(f"{urls['routing']}/api/v1/cases/{case_id}", headers=headers)).json()
    holder = auth_header("staff", "qingshui", sub=view["staff_id"], department_code=view["department_code"])
    answers = []
    answers.append(("nul-in-transfer-reason", await _alone(
        "POST", f"{urls['routing']}/api/v1/cases/{case_id}/transfer", headers=holder,
        json={"to_department_code": "civil_affairs", "reason": "属民政\x00业务"})))
    resp = await client.post(f"{urls['routing']}/api/v1/cases/{case_id}/complete", headers=holder,
                             json={"result": "granted", "note": "已办结"})
    assert resp.status_code in (200, 201), resp.text

    async def completed_in_intake():
        view = await client.get(f"{urls['intake']}/api/v1/cases/{case_id}", headers=headers)
        return view.status_code == 200 and view.json()["status"] == "completed"

    await eventually(completed_in_intake, timeout=30, what="intake to see the completion")
    answers.append(("nul-in-rating-comment", await _alone(
        "POST", f"{urls['intake']}/api/v1/cases/{case_id}/rating", headers=auth_header("window_pad", "qingshui"),
        json={"score": 5, "comment": "满意\x00"})))
    return case_id, answers


async def _alone(method: str, url: str, **kwargs) -> int:
    """On a connection of its own (a server that drops one after an error must not fail the next
    request); NO_ANSWER when the connection is dropped without an answer."""
    async with httpx.AsyncClient(timeout=60) as client:
        try:
            return (await client.request(method, url, **kwargs)).status_code
        except httpx.HTTPError:
            return NO_ANSWER


async def _status(client: httpx.AsyncClient, url: str, headers: dict) -> bool:
    return (await client.get(url, headers=headers)).status_code == 200


async def _big_integers(audit_url: str) -> list[tuple[str, int]]:
    answers = []
    for n in BIG:
        for path, params in (("/api/v1/events", {"after_seq": n}), ("/api/v1/events", {"limit": n}),
                             ("/api/v1/integrity", {"checkpoint_seq": n, "checkpoint_hash": "0" * 64})):
            status = await _alone("GET", f"{audit_url}{path}", params=params, headers=INSPECTOR)
            answers.append((f"{path}?{next(iter(params))}={n}", status))
    return answers


async def test_hostile_input_is_refused_and_ordinary_cases_still_flow(system, fault_infra):
    urls = {name: system[name].url for name in ("intake", "routing", "notify", "audit")}
    since = await baseline(urls["audit"], fault_infra.kafka_bootstrap)
    answers: list[tuple[str, int]] = []
    setup_case, setup_problem = None, None
    async with httpx.AsyncClient(timeout=60) as client:
        for name, body in hostile_submissions().items():
            answers.append((name, await _alone("POST", f"{urls['intake']}/api/v1/cases", json=body,
                                               headers=staff("qingshui"))))
        try:
            setup_case, more = await _completed_case(client, urls)
            answers += more
        except AssertionError as exc:  # e.g. a hostile row jams the relay: recorded, judged below
            setup_problem = str(exc)
    answers += await _big_integers(urls["audit"])

    load = Load(urls["intake"], target=30).start()  # rotates over every township and item
    await load.finish()
    server_errors = [a for a in answers if a[1] >= 500]
    accepted = [a for a in answers if 200 <= a[1] < 300 and not a[0].startswith("/api/v1/")]
    verdict = await judge("hostile-input", load.case_ids, audit_url=urls["audit"], kafka=fault_infra.kafka_bootstrap,
                          since=since, extra={"hostile": len(answers),
                                              "hostile_5xx": ",".join(a[0] for a in server_errors) or 0,
                                              "hostile_accepted": ",".join(a[0] for a in accepted) or 0})
    async with httpx.AsyncClient(timeout=30) as client:
        feed = (await client.get(f"{urls['audit']}/api/v1/events", params={"after_seq": since.audit_seq, "limit": 1000},
                                 headers=INSPECTOR)).json()
    # Audit's own streams (signed heads, the record of who read what) are not cases.
    strangers = {r["case_id"] for r in feed if r["source"] != "audit"} - set(load.case_ids) - {setup_case}
    assert {c["township_id"] for c in load.accepted} == {"qingshui", "baishi", "hexi"}
    assert not server_errors, f"5xx on hostile input: {server_errors}"
    assert not accepted, f"hostile input accepted: {accepted}"
    assert setup_problem is None, f"an ordinary case could not be transferred and completed: {setup_problem}"
    assert not strangers, f"cases in audit that no ordinary submission made: {strangers}"
    verdict.assert_clean()
