"""The Excel workbook: the header rows say what and who, the cells hold the rows in Beijing time."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from openpyxl import load_workbook

from services.audit.workbook import Column, build, content_disposition

pytestmark = pytest.mark.unit


def test_header_rows_then_the_rows():
    case_id = uuid4()
    data = build(title="异常清单 超期办件", exported_by="insp-01（inspector）",
                 exported_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC), parameters={"township_id": "qingshui", "x": None},
                 columns=[Column("case_id", "办件编号"), Column("at", "时间"), Column("late", "超期"), Column("path", "科室")],
                 rows=[{"case_id": case_id, "at": datetime(2026, 11, 1, 16, 0, tzinfo=UTC), "late": True,
                        "path": ["a", "b"]}], note="仅导出前 10000 条")
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "异常清单 超期办件" and rows[0][0] == "异常清单 超期办件"
    assert rows[1][0] == "导出人：insp-01（inspector）　导出时间：2026-11-24 10:00:00（北京时间）"
    assert rows[2][0] == "查询条件：township_id=qingshui　仅导出前 10000 条"
    assert rows[3] == ("办件编号", "时间", "超期", "科室")
    assert rows[4] == (str(case_id), datetime(2026, 11, 2, 0, 0), "是", "a、b")


def test_file_name_keeps_chinese_and_an_ascii_fallback():
    value = content_disposition("审计事件查询", datetime(2026, 11, 24).date())
    assert value.startswith('attachment; filename="export-2026-11-24.xlsx"; filename*=UTF-8\'\'%E5%AE%A1')
