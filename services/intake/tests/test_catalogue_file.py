"""The catalogue file's checks and the search over it: pure, no I/O beyond reading the repository's file."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from services.intake.catalogue_file import DEFAULT_FILE, CatalogueError, load_catalogue, parse_catalogue
from services.intake.catalogue_search import CatalogueIndex, CatalogueQuery

pytestmark = pytest.mark.unit
RAW = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
LEGACY = {"YB-001": ("immediate", 5, 0, ["id_card", "hukou"]),
          "SB-002": ("promised", 20, 10, ["id_card", "hukou", "bank_card", "photo"]),
          "MZ-003": ("promised", 30, 20, ["id_card", "hukou", "income_statement", "authorization"]),
          "CL-004": ("promised", 20, 15, ["id_card", "disability_card", "bank_card"]),
          "NY-005": ("joint", 20, 15, ["id_card", "hukou", "site_plan", "neighbour_consent"]),
          "TY-006": ("promised", 15, 10, ["id_card", "discharge_cert", "photo"])}


def _raw() -> dict:
    return copy.deepcopy(RAW)


def _item(raw: dict, code: str) -> dict:
    return next(i for i in raw["items"] if i["item_code"] == code)


def _refusal(raw: dict) -> str:
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(raw, source="demo-county.yaml")
    return str(refused.value)


def test_the_demo_county_catalogue_is_whole():
    catalogue = load_catalogue()
    assert catalogue.version == "2026.11-r2"
    assert len(catalogue.items) >= 60 and len(catalogue.departments) >= 12
    assert {(t.township_id, t.case_prefix) for t in catalogue.townships} >= {("qingshui", "QS"), ("baishi", "BS"),
                                                                              ("hexi", "HX")}
    assert all(len(t.villages) >= 3 and t.address and t.office_hours for t in catalogue.townships)
    names = {i.name for i in catalogue.items}
    assert {"城乡居民基本医疗保险参保登记", "城乡居民养老保险参保登记", "高龄津贴申领", "临时救助申请", "残疾人证办理",
            "就业创业证申领", "林木采伐许可", "法律援助申请", "户口迁移"} <= names


@pytest.mark.parametrize("code", sorted(LEGACY))
def test_the_six_items_the_suite_relies_on_are_unchanged(code):
    item = load_catalogue().items[[i.item_code for i in load_catalogue().items].index(code)]
    kind, legal, promised, materials = LEGACY[code]
    assert (item.kind, item.legal_limit_days, item.promised_limit_days) == (kind, legal, promised)
    assert [m.code for m in item.materials] == materials
    assert item.offered_in is None


def test_an_item_becomes_intakes_item_with_its_version():
    spec = load_catalogue().items[1]
    item = spec.to_item("2026.11")
    assert (item.item_code, item.catalogue_version, item.legal_limit_days) == (spec.item_code, "2026.11",
                                                                              spec.legal_limit_days)
    assert item.materials[0].valid_when == spec.materials[0].valid_when and item.offered_at("hexi")


def test_a_promise_beyond_the_legal_limit_names_item_and_field():
    raw = _raw()
    _item(raw, "SB-002")["promised_limit_days"] = 25
    message = _refusal(raw)
    assert "item SB-002" in message and "promised_limit_days 25 exceeds legal_limit_days 20" in message


def test_duplicate_item_codes_are_refused():
    raw = _raw()
    raw["items"].append(copy.deepcopy(_item(raw, "MZ-003")))
    assert "items: item_code MZ-003 appears more than once" in _refusal(raw)


def test_an_unknown_department_is_refused():
    raw = _raw()
    _item(raw, "LY-001")["department_code"] = "fisheries"
    assert "item LY-001: department_code 'fisheries' is not in departments" in _refusal(raw)


def test_material_codes_must_be_unique_within_an_item():
    raw = _raw()
    item = _item(raw, "TY-006")
    item["materials"].append(dict(item["materials"][0]))
    assert "item TY-006" in (message := _refusal(raw)) and "materials: code id_card appears more than once" in message


def test_an_item_without_materials_is_refused():
    raw = _raw()
    _item(raw, "CL-004")["materials"] = []
    message = _refusal(raw)
    assert "item CL-004 materials" in message and "at least 1" in message


def test_a_missing_field_names_the_item_by_its_code():
    raw = _raw()
    del _item(raw, "HJ-001")["legal_basis"]
    assert "item HJ-001 legal_basis: Field required" in _refusal(raw)


def test_offered_in_must_name_known_townships():
    raw = _raw()
    _item(raw, "HJ-005")["offered_in"] = ["hexi", "nowhere"]
    assert "item HJ-005: offered_in names unknown township nowhere" in _refusal(raw)


def test_duplicate_village_ids_and_case_prefixes_are_refused():
    raw = _raw()
    raw["townships"][1]["villages"].append(dict(raw["townships"][0]["villages"][0]))
    assert "townships: village_id qs-jieshang appears more than once" in _refusal(raw)
    raw = _raw()
    raw["townships"][1]["case_prefix"] = "QS"
    assert "townships: case_prefix QS appears more than once" in _refusal(raw)


def test_a_missing_or_broken_file_says_so(tmp_path: Path):
    with pytest.raises(CatalogueError, match="cannot read the service catalogue"):
        load_catalogue(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match="is not YAML"):
        load_catalogue(broken)


def test_the_digest_follows_the_content_not_the_anchors():
    raw = _raw()
    same = parse_catalogue(copy.deepcopy(raw)).digest()
    raw["materials_library"] = {}
    assert parse_catalogue(raw).digest() == same
    _item(raw, "YB-001")["fee"] = "每人每年10元"
    assert parse_catalogue(raw).digest() != same


INDEX = CatalogueIndex(load_catalogue())


def _codes(**query) -> list[str]:
    return [i.item_code for i in INDEX.search(CatalogueQuery(**query))]


def test_pinyin_initials_find_medical_insurance_items():
    found = _codes(q="ylbx")
    assert {"YB-001", "YB-002", "YB-003"} <= set(found)
    assert "HJ-001" not in found


def test_full_pinyin_and_chinese_find_the_same_items():
    assert _codes(q="yiliaobaoxian") == _codes(q="医疗保险") == ["YB-001", "YB-002", "YB-003"]
    assert _codes(q="Lin Mu Cai Fa") == _codes(q="lmcf") == ["LY-001"]


def test_the_item_code_is_searchable():
    assert _codes(q="hj-00")[:1] == ["HJ-001"] and set(_codes(q="HJ-00")) == {f"HJ-00{n}" for n in range(1, 7)}


def test_department_township_level_and_agent_filters():
    assert set(_codes(department="forestry")) == {f"LY-00{n}" for n in range(1, 6)}
    hexi = set(_codes(township_id="hexi"))
    assert "HJ-005" in hexi and "LY-001" not in hexi and "SB-002" in hexi
    assert "HJ-005" not in _codes(township_id="qingshui")
    assert all(i.handling_level == "village" for i in INDEX.search(CatalogueQuery(handling_level="village")))
    assert "LY-001" not in _codes(agent_may_take=True) and "LY-001" in _codes(agent_may_take=False)
    assert _codes(q="ylbx", department="medical_insurance", township_id="baishi") == ["YB-001", "YB-002", "YB-003"]


def test_nothing_matches_a_query_no_item_answers():
    assert _codes(q="zzzz") == [] and _codes(department="fisheries") == []
