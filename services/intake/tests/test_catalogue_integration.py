"""The public catalogue endpoints and the catalogue's versions, on real PostgreSQL and Kafka."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
import yaml

from services.intake import catalogue_store
from services.intake.app import create_app
from services.intake.catalogue_file import DEFAULT_FILE, CatalogueError
from services.intake.settings import IntakeSettings
from services.kit.testing import auth_header, running_app, start_group_at_end

pytestmark = pytest.mark.integration


async def _settings(infra, dsn: str, **overrides) -> IntakeSettings:
    suffix = f"-cat-{uuid4().hex[:6]}"
    await start_group_at_end(infra.kafka_bootstrap, f"bianmin-intake{suffix}")
    return IntakeSettings(DATABASE_URL=dsn, KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
                          BIANMIN_CONSUMER_GROUP_SUFFIX=suffix, **overrides)


@pytest.fixture(scope="module")
async def intake(infra, make_database):
    app = create_app(await _settings(infra, await make_database("it_catalogue")))
    async with running_app(app) as client:
        yield client


async def test_the_catalogue_is_public(intake):
    for path in ("/api/v1/catalogue", "/api/v1/catalogue/SB-002", "/api/v1/departments", "/api/v1/townships"):
        assert (await intake.get(path)).status_code == 200, path
        # A token is not read at all: a broken one is no reason to hide what the centre offers.
        assert (await intake.get(path, headers={"Authorization": "Bearer nonsense"})).status_code == 200, path
    assert (await intake.get("/api/v1/catalogue", headers=auth_header("staff", "qingshui"))).status_code == 200


async def test_search_by_pinyin_initials_department_and_township(intake):
    page = (await intake.get("/api/v1/catalogue", params={"q": "ylbx", "department": "medical_insurance"})).json()
    assert page["catalogue_version"] == "2026.11-r2"
    assert [i["item_code"] for i in page["items"]] == ["YB-001", "YB-002", "YB-003"] and page["total"] == 3
    assert page["items"][0]["name"] == "城乡居民基本医疗保险参保登记" and page["items"][0]["kind_name"] == "即办件"
    full = (await intake.get("/api/v1/catalogue", params={"q": "linmucaifa"})).json()
    assert [i["item_code"] for i in full["items"]] == ["LY-001"]
    hexi = (await intake.get("/api/v1/catalogue", params={"township_id": "hexi", "limit": 100})).json()
    codes = {i["item_code"] for i in hexi["items"]}
    assert "HJ-005" in codes and "LY-001" not in codes and hexi["total"] == len(codes)
    agents = (await intake.get("/api/v1/catalogue", params={"agent_may_take": "true", "handling_level": "village",
                                                            "limit": 100})).json()
    assert agents["items"] and all(i["agent_may_take"] and i["handling_level"] == "village" for i in agents["items"])


async def test_pages_are_bounded_and_cover_the_catalogue(intake):
    first = (await intake.get("/api/v1/catalogue", params={"limit": 50})).json()
    rest = (await intake.get("/api/v1/catalogue", params={"limit": 50, "offset": 50})).json()
    codes = [i["item_code"] for i in first["items"] + rest["items"]]
    assert first["total"] >= 60 and len(codes) == len(set(codes)) == first["total"]
    too_many = await intake.get("/api/v1/catalogue", params={"limit": 101})
    assert too_many.status_code == 422 and too_many.json()["message"].startswith("请求内容不符合要求")


@pytest.mark.parametrize("params", [
    {"q": "x" * 41},
    {"q": "医保' OR 1=1 --"},
    {"q": "医保\x00"},
    {"q": "\u202e保医"},
    {"department": "社保"},
    {"township_id": "qingshui/../x"},
    {"handling_level": "province"},
    {"agent_may_take": "perhaps"},
    {"offset": "-1"},
    {"offset": str(2**70)},
])
async def test_hostile_query_parameters_are_refused_in_chinese(intake, params):
    resp = await intake.get("/api/v1/catalogue", params=params)
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] in {"VALIDATION_FAILED", "CODE_INVALID"}
    assert body["message"].startswith(f"请求内容不符合要求：{next(iter(params))}（"), body["message"]


async def test_the_service_guide_tells_a_resident_everything(intake):
    guide = (await intake.get("/api/v1/catalogue/SB-002")).json()
    assert guide["name"] == "城乡居民养老保险待遇申领" and guide["department_name"] == "社保站"
    assert guide["kind_name"] == "承诺件" and "承诺时限" in guide["kind_explained"]
    assert guide["time_limit"] == "法定办结时限20个工作日，承诺办结时限10个工作日"
    assert guide["fee"] == "不收费" and "社会保险法" in guide["legal_basis"]
    assert guide["agent_may_take"] and "代办员" in guide["agent_note"]
    assert {p["township_id"] for p in guide["offered_in"]} == {"qingshui", "baishi", "hexi"}
    photo = next(m for m in guide["materials"] if m["code"] == "photo")
    assert not photo["essential"] and photo["requirement"] == "可容缺受理，受理后10个工作日内补齐"
    assert next(m for m in guide["materials"] if m["code"] == "id_card")["valid_when"] == "原件，在有效期内"
    assert guide["catalogue_version"] == "2026.11-r2"
    hukou_move = (await intake.get("/api/v1/catalogue/LY-001")).json()
    assert hukou_move["handling_level_name"] == "县级" and not hukou_move["agent_may_take"]
    assert [p["township_id"] for p in hukou_move["offered_in"]] == ["qingshui", "baishi"]


async def test_an_unknown_item_is_a_404_in_chinese(intake):
    resp = await intake.get("/api/v1/catalogue/XX-999")
    assert (resp.status_code, resp.json()["code"]) == (404, "ITEM_NOT_FOUND")
    assert resp.json()["message"] == "服务事项不存在"
    hostile = await intake.get("/api/v1/catalogue/" + "A" * 41)
    assert hostile.status_code == 422


async def test_departments_and_townships_with_villages(intake):
    departments = {d["code"]: d for d in (await intake.get("/api/v1/departments")).json()}
    assert len(departments) >= 12 and departments["forestry"]["name"] == "林业站"
    assert departments["forestry"]["item_count"] == 5
    townships = {t["township_id"]: t for t in (await intake.get("/api/v1/townships")).json()}
    assert townships["qingshui"]["case_prefix"] == "QS" and townships["qingshui"]["address"]
    assert {"village_id": "qs-dongfeng", "name": "东风村"} in townships["qingshui"]["villages"]
    assert set(townships) == {"qingshui", "baishi", "hexi"}


def _write(tmp: Path, name: str, raw: dict) -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _item(raw: dict, code: str) -> dict:
    return next(i for i in raw["items"] if i["item_code"] == code)


async def test_a_new_version_becomes_current_and_the_old_one_stays_loadable(infra, make_database, tmp_path):
    dsn = await make_database("it_catalogue_versions")
    raw = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    app = create_app(await _settings(infra, dsn))
    async with running_app(app):
        async with app.state.runtime.pool.acquire() as conn:
            before = await catalogue_store.load_item(conn, "SB-002")
    assert before is not None and (before.catalogue_version, before.promised_limit_days) == ("2026.11-r2", 10)

    raw["version"] = "2026.12"
    _item(raw, "SB-002")["promised_limit_days"] = 8
    del raw["items"][[i["item_code"] for i in raw["items"]].index("MZ-010")]
    app = create_app(await _settings(infra, dsn, catalogue_file=_write(tmp_path, "2026.12.yaml", raw)))
    async with running_app(app) as client, app.state.runtime.pool.acquire() as conn:
        current = await catalogue_store.load_item(conn, "SB-002")
        old = await catalogue_store.load_item_version(conn, "SB-002", "2026.11-r2")
        unchanged = await catalogue_store.load_item(conn, "YB-001")
        assert current is not None and (current.catalogue_version, current.promised_limit_days) == ("2026.12", 8)
        assert old is not None and (old.catalogue_version, old.promised_limit_days) == ("2026.11-r2", 10)
        assert old.materials == current.materials and old.materials[0].valid_when
        # Unchanged content keeps the version that first carried it; no second copy is stored.
        assert unchanged is not None and unchanged.catalogue_version == "2026.11-r2"
        assert await catalogue_store.load_item_version(conn, "YB-001", "2026.12") is None
        # Left out of the file: no longer offered, still readable for the cases taken under it.
        assert await catalogue_store.load_item(conn, "MZ-010") is None
        assert await catalogue_store.load_item_version(conn, "MZ-010", "2026.11-r2") is not None
        guide = (await client.get("/api/v1/catalogue/SB-002")).json()
        assert (guide["promised_limit_days"], guide["catalogue_version"]) == (8, "2026.12")
        assert (await client.get("/api/v1/catalogue/YB-001")).json()["catalogue_version"] == "2026.11-r2"
        assert (await client.get("/api/v1/catalogue/MZ-010")).status_code == 404

    _item(raw, "SB-002")["promised_limit_days"] = 5  # changed again, version left at 2026.12
    app = create_app(await _settings(infra, dsn, catalogue_file=_write(tmp_path, "edited.yaml", raw)))
    with pytest.raises(CatalogueError, match=r"changed but its version '2026\.12' did not"):
        async with running_app(app):
            pass


async def test_a_wrong_catalogue_file_stops_intake_before_it_starts(tmp_path):
    raw = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    _item(raw, "CL-004")["promised_limit_days"] = 99
    with pytest.raises(CatalogueError, match="item CL-004: .*promised_limit_days 99 exceeds legal_limit_days 20"):
        create_app(IntakeSettings(catalogue_file=_write(tmp_path, "wrong.yaml", raw)))
