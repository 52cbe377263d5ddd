"""联办件 in the catalogue file: which other departments decide a share, and the checks on them."""

from __future__ import annotations

import copy

import pytest
import yaml

from services.intake.catalogue_file import DEFAULT_FILE, CatalogueError, load_catalogue, parse_catalogue

pytestmark = pytest.mark.unit
RAW = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


def _with_item(code: str, **changes: object) -> dict:
    raw = copy.deepcopy(RAW)
    item = next(i for i in raw["items"] if i["item_code"] == code)
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return raw


def _refusal(raw: dict) -> str:
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(raw, source="demo-county.yaml")
    return str(refused.value)


def test_the_demo_joint_items_name_their_other_departments():
    catalogue = load_catalogue()
    joint = {i.item_code: i for i in catalogue.items if i.kind == "joint"}
    assert set(joint) >= {"NY-005", "ZR-001"}
    assert joint["NY-005"].joint_departments == ("agriculture",)
    assert joint["NY-005"].to_item(catalogue.version).joint_departments == ("agriculture",)
    assert all(i.joint_departments for i in joint.values())
    assert not any(i.joint_departments for i in catalogue.items if i.kind != "joint")


def test_an_item_that_is_not_joint_stores_the_content_it_had():
    catalogue = load_catalogue()
    plain = next(i for i in catalogue.items if i.item_code == "SB-002")
    joint = next(i for i in catalogue.items if i.item_code == "NY-005")
    assert "joint_departments" not in plain.content()
    assert joint.content()["joint_departments"] == ["agriculture"]


@pytest.mark.parametrize(("changes", "words"), [
    ({"joint_departments": None}, "item NY-005: joint_departments: a joint item"),
    ({"joint_departments": []}, "item NY-005: joint_departments: a joint item"),
    ({"joint_departments": ["natural_resources"]}, "is the item's own department"),
    ({"joint_departments": ["agriculture", "agriculture"]}, "agriculture appears more than once"),
])
def test_a_joint_item_needs_other_known_departments(changes, words):
    assert words in _refusal(_with_item("NY-005", **changes))


def test_an_unknown_joint_department_is_refused():
    assert "item NY-005: joint_departments names housing, not in departments" in _refusal(
        _with_item("NY-005", joint_departments=["housing"]))


def test_only_a_joint_item_has_joint_departments():
    assert "item SB-002: joint_departments: only a joint item has them" in _refusal(
        _with_item("SB-002", joint_departments=["agriculture"]))
