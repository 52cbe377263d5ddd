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
