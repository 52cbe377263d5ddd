"""The demo county's departments (部门/站所) and their staff per township, loaded into routing at start."""

from __future__ import annotations

from services.routing.domain import GENERAL_WINDOW

DEPARTMENTS: dict[str, str] = {
    GENERAL_WINDOW.code: GENERAL_WINDOW.name,
    "medical_insurance": "医保站",
    "social_security": "社保站",
    "civil_affairs": "民政办",
    "disabled_persons": "残联",
    "natural_resources": "自然资源所",
    "veterans": "退役军人服务站",
    "agriculture": "农业综合服务中心",
    "forestry": "林业站",
    "health": "卫生健康办",
    "judicial": "司法所",
    "household_registration": "户籍室",
    "employment": "就业服务站",
}

# township_id -> staff id prefix
TOWNSHIPS: dict[str, str] = {"qingshui": "qs", "baishi": "bs", "hexi": "hx"}

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭"
_GIVEN = ("芳", "伟", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛")
STAFF_PER_DEPARTMENT = 2


def _staff() -> list[dict[str, str]]:
    """Deterministic demo staff: two per department in every township, e.g. qs-social_security-01."""
    rows: list[dict[str, str]] = []
    for t, (township_id, prefix) in enumerate(TOWNSHIPS.items()):
        for d, department_code in enumerate(DEPARTMENTS):
            for n in range(1, STAFF_PER_DEPARTMENT + 1):
                i = t * 7 + d * 3 + n
                rows.append({"staff_id": f"{prefix}-{department_code}-{n:02d}", "township_id": township_id,
                             "department_code": department_code,
                             "name": _SURNAMES[i % len(_SURNAMES)] + _GIVEN[i % len(_GIVEN)]})
    return rows


STAFF: list[dict[str, str]] = _staff()
