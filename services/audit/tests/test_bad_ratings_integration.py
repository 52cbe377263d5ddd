"""The bad-rating ledger (差评台账) on real Kafka and PostgreSQL: three bad ratings of one township are published
with what followed them (one visited and rectified, one appealed and upheld, one left alone past its visit due),
and a good rating beside them; audit folds them, and the ledger, its figures and the anomaly lists agree."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.audit.tests.bad_rating_builders import Loop
from services.audit.tests.probes import INSPECTOR, publish
from services.kit.testing import auth_header, eventually, running_app, start_group_at_end

pytestmark = pytest.mark.integration
LEDGER = "/api/v1/inspections/bad-ratings"
RATED = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday 12 October 2026: every due has long passed


@pytest.fixture(scope="module")
async def audit(infra, make_database):
    suffix = f"-it-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-audit{suffix}")
    settings = AuditSettings(DATABASE_URL=await make_database("it_bad_ratings"),
                             KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, BIANMIN_CONSUMER_GROUP_SUFFIX=suffix)
    app = create_app(settings)
    async with running_app(app) as client:
        yield client, app.state.runtime


class Scene:
    def __init__(self) -> None:
        self.township = f"t{uuid.uuid4().hex[:10]}"
        self.owner, self.other, self.head = f"{self.township}-01", f"{self.township}-02", f"{self.township}-head"
        self.done = (Loop(self.township, self.owner, RATED).opened().visited(after=timedelta(hours=3))
                     .rectified(after=timedelta(days=2)))
        self.upheld = (Loop(self.township, self.other, RATED + timedelta(hours=1), score=1).opened()
                       .appealed(after=timedelta(hours=2)).decided(after=timedelta(hours=5), upheld=True,
                                                                   head=self.head))
        self.left = Loop(self.township, self.owner, RATED + timedelta(hours=2)).opened()
        self.good = Loop(self.township, self.owner, RATED + timedelta(hours=3), score=5)
        self.events = [e for loop in (self.done, self.upheld, self.left, self.good) for e in loop.events]


@pytest.fixture(scope="module")
async def scene(audit, infra) -> Scene:
    _, runtime = audit
    s = Scene()
    await publish(infra.kafka_bootstrap, s.events)
    ids = [e.event_id for e in s.events]

    async def folded():
        async with runtime.pool.acquire() as conn:
            n = await conn.fetchval("SELECT count(*) FROM audit_event_index i JOIN audit_log l ON l.seq = i.seq"
                                    " WHERE l.event_id = ANY($1::uuid[])", ids)
        return n == len(ids) or None

    await eventually(folded, timeout=60, what="the bad ratings and their loop in the read model")
    return s


def head(township: str) -> dict[str, str]:
    return auth_header("centre_head", township, sub=f"{township}-head")


async def test_the_ledger_shows_each_bad_rating_with_its_loop_and_state(audit, scene):
    client, _ = audit
    s = scene
    resp = await client.get(LEDGER, params={"township_id": s.township}, headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    items = {i["rating_event_id"]: i for i in resp.json()["items"]}
    assert list(items) == [str(s.done.rating.event_id), str(s.upheld.rating.event_id), str(s.left.rating.event_id)]
    done, upheld, left = items.values()
    assert (done["state"], done["state_label"], done["visit_on_time"], done["rectification_on_time"]) == (
        "rectified", "已整改", True, True)
    assert done["owner_staff_id"] == s.owner and done["case_no"] == s.done.case_no
    assert done["complaint_holds"] is True and done["measures"] == "已在窗口公示材料清单"
    assert len(done["evidence_event_ids"]) == 4  # the rating, the opening, the visit, the rectification
    assert (upheld["state"], upheld["appeal_ground"], upheld["appeal_decided_by"]) == (
        "appeal_upheld", "about_the_law", s.head)
    assert (left["state"], left["visited_at"]) == ("overdue", None)
    assert left["visit_due"] == (RATED + timedelta(hours=2, days=1)).isoformat().replace("+00:00", "Z")

    overdue = await client.get(LEDGER, params={"township_id": s.township, "state": "overdue"}, headers=INSPECTOR)
    assert [i["rating_event_id"] for i in overdue.json()["items"]] == [str(s.left.rating.event_id)]
    by_owner = await client.get(LEDGER, params={"owner_staff_id": s.other}, headers=INSPECTOR)
    assert [i["rating_event_id"] for i in by_owner.json()["items"]] == [str(s.upheld.rating.event_id)]
    first = (await client.get(LEDGER, params={"township_id": s.township, "page_size": 2}, headers=INSPECTOR)).json()
    rest = (await client.get(LEDGER, params={"township_id": s.township, "page_size": 2, "cursor": first["next_cursor"]},
                             headers=INSPECTOR)).json()
    assert [i["rating_event_id"] for i in first["items"] + rest["items"]] == list(items)
    assert rest["next_cursor"] is None


async def test_figures_match_the_three(audit, scene):
    client, _ = audit
    s = scene
    resp = await client.get(f"{LEDGER}/figures", params={"township_id": s.township}, headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    [row] = resp.json()["rows"]
    assert (row["township_id"], row["period_start"]) == (s.township, "2026-10-01")
    assert (row["bad_ratings"], row["appeals_upheld"], row["visits_due"], row["visited_on_time"]) == (2, 1, 2, 1)
    assert (row["rectifications_due"], row["rectified_on_time"]) == (1, 1)
    # 回访率 1/2; 整改率 1/1; 满意率: the good one of three ratings (the upheld appeal's is out of it)
    assert (row["follow_up_rate"], row["rectification_rate"]) == (0.5, 1.0)
    assert (row["ratings"], row["satisfied"], row["satisfaction_rate"]) == (3, 1, 0.3333)


async def test_only_the_one_left_alone_is_an_anomaly(audit, scene):
    client, _ = audit
    s = scene
    for kind in ("bad_rating_without_follow_up", "rectification_overdue"):
        resp = await client.get(f"/api/v1/inspections/anomalies/{kind}", params={"township_id": s.township},
                                headers=INSPECTOR)
        assert resp.status_code == 200, resp.text
        [found] = resp.json()["items"]
        assert found["case_id"] == str(s.left.case_id) and found["staff_id"] == s.owner, kind
        assert [e["event_id"] for e in found["evidence"]] == [str(s.left.rating.event_id),
                                                              str(s.left.events[1].event_id)]
        assert all(e["seq"] for e in found["evidence"])


async def test_the_centre_head_sees_their_own_staff_none_and_every_answer_is_recorded(audit, scene):
    client, runtime = audit
    s = scene
    own = await client.get(LEDGER, headers=head(s.township))
    assert own.status_code == 200 and len(own.json()["items"]) == 3
    other = await client.get(LEDGER, params={"township_id": s.township}, headers=head("baishi"))
    assert other.status_code == 403 and other.json()["code"] == "TOWNSHIP_FORBIDDEN"
    for url in (LEDGER, f"{LEDGER}/figures"):
        staff = await client.get(url, params={"township_id": s.township}, headers=auth_header("staff", s.township))
        assert staff.status_code == 403 and staff.json()["code"] == "ROLE_FORBIDDEN"
    bad = await client.get(LEDGER, params={"state": "closed"}, headers=INSPECTOR)
    assert bad.status_code == 422 and bad.json()["code"] == "VALIDATION_FAILED" and bad.json()["message"]

    async def recorded():
        async with runtime.pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE event_type = 'AuditQueried' AND township_id = $1"
                " AND (envelope::jsonb) -> 'payload' ->> 'query' = 'bad_ratings'", s.township) or None
    assert await eventually(recorded, what="the head's read of the ledger in the chain") >= 1


async def test_the_ledger_as_a_workbook(audit, scene):
    client, _ = audit
    s = scene
    resp = await client.get(LEDGER, params={"township_id": s.township, "format": "xlsx"}, headers=INSPECTOR)
    assert resp.status_code == 200, resp.text
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "差评台账" and "inspector-01" in rows[1][0] and s.township in rows[2][0]
    headers = rows[3]
    assert headers[:3] == ("评价事件编号", "办件编号", "办件号") and "状态" in headers and "回访率" not in headers
    state = headers.index("状态")
    assert [r[state] for r in rows[4:]] == ["已整改", "申诉成立", "超期"]
    figures = await client.get(f"{LEDGER}/figures", params={"township_id": s.township, "format": "xlsx"},
                               headers=INSPECTOR)
    sheet = list(load_workbook(io.BytesIO(figures.content)).active.iter_rows(values_only=True))
    assert sheet[0][0] == "差评闭环统计" and "回访率" in sheet[3] and sheet[4][sheet[3].index("回访率")] == 0.5
