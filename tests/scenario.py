"""The case lifecycle through HTTP only, in steps the end-to-end tests compose."""

from __future__ import annotations

from services.kit.testing import auth_header, eventually
from tests.builders import case_body

LIFECYCLE = ["CaseSubmitted", "CaseAssigned", "CaseTransferred", "CaseCompleted", "CaseRated"]


async def submit(api, seed: int = 1) -> dict:
    resp = await api.post("intake", "/api/v1/cases", case_body(seed))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def routing_case(api, case_id: str, *, status: str | None = None) -> dict:
    async def probe():
        resp = await api.get("routing", f"/api/v1/cases/{case_id}")
        if resp.status_code != 200:
            return None
        view = resp.json()
        return view if status is None or view["status"] == status else None

    return await eventually(probe, timeout=60, what=f"routing to hold case {case_id} ({status or 'any'})")


async def holder(api, case_id: str) -> dict[str, str]:
    """A token of the staff member routing assigned the case to: only the case holder decides it."""
    view = await routing_case(api, case_id)
    return auth_header("staff", view["township_id"], sub=view["staff_id"], department_code=view["department_code"])


async def transfer(api, case_id: str, to: str = "civil_affairs") -> dict:
    resp = await api.post("routing", f"/api/v1/cases/{case_id}/transfer", {"to_department_code": to, "reason": "属民政业务"},
                          headers=await holder(api, case_id))
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def complete(api, case_id: str) -> dict:
    resp = await api.post("routing", f"/api/v1/cases/{case_id}/complete", {"result": "granted", "note": "已办结"},
                          headers=await holder(api, case_id))
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def rate(api, case_id: str, score: int = 5) -> dict:
    async def completed_in_intake():
        view = (await api.get("intake", f"/api/v1/cases/{case_id}")).json()
        return view if view["status"] == "completed" else None

    await eventually(completed_in_intake, timeout=60, what="intake to see the completion")
    resp = await api.post("intake", f"/api/v1/cases/{case_id}/rating", {"score": score, "comment": "满意"},
                          headers=auth_header("window_pad", "qingshui", sub="qs-pad-1"))  # the pad at the window
    assert resp.status_code == 201, resp.text
    return resp.json()


async def history_with(api, case_id: str, expected_types: list[str], *, extra: int = 0) -> dict:
    """Waits until the audit history holds at least the expected events (plus `extra` others)."""

    async def probe():
        history = await api.history(case_id)
        if not history:
            return None
        types = [e["event_type"] for e in history["events"]]
        return history if all(types.count(t) >= expected_types.count(t) for t in expected_types) and \
            len(types) >= len(expected_types) + extra else None

    return await eventually(probe, timeout=90, what=f"audit history of {case_id} to hold {expected_types}")


async def resident_messages(api, case_id: str, count: int) -> list[dict]:
    async def probe():
        resp = await api.get("notify", "/api/v1/messages", params={"case_id": case_id})
        if resp.status_code != 200:
            return None
        data = resp.json()
        items = data
        sent = [m for m in items if m["recipient_kind"] == "resident" and m["status"] == "sent"]
        return items if len(sent) >= count else None

    return await eventually(probe, timeout=60, what=f"{count} resident SMS for {case_id}")
