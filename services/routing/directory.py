"""The demo county's departments (部门/站所) and their staff per township, loaded into routing at start."""

from __future__ import annotations

# The departments are shared with intake, which checks codes against them.
from contracts.departments import DEPARTMENTS as DEPARTMENTS

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
