"""Small builders of intake request bodies."""

from __future__ import annotations

VALID_ID = "11010519491231002X"


def case_body(**overrides) -> dict:
    body = {
        "item_code": "SB-002", "township_id": "qingshui", "channel": "window",
        "applicant": {"name": "张三", "id_number": VALID_ID, "phone": "13800138000"},
        "materials": ["id_card", "hukou", "bank_card"],
    }
    body.update(overrides)
    return body


def revised_catalogue(target, *, item_code: str = "JY-001", version: str = "2026.12",
                      material: dict | None = None, withdraw: str | None = None) -> str:
    """The demo catalogue as the county might revise it: a new version in which one item requires one more
    essential material (and, if named, one item is withdrawn). Written to `target` (a path); returns the
    path as a string for INTAKE_CATALOGUE_FILE."""
    import yaml

    from services.intake.catalogue_file import DEFAULT_FILE

    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    data["version"] = version
    item = next(i for i in data["items"] if i["item_code"] == item_code)
    item["materials"] = [*item["materials"], material or {
        "code": "hukou", "name": "户口簿", "essential": True, "valid_when": "户主页和本人页"}]
    if withdraw:
        data["items"] = [i for i in data["items"] if i["item_code"] != withdraw]
    data.pop("materials_library", None)  # its anchors are resolved into the items by now
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(target)
