"""Excel workbooks an inspector can file (openpyxl): one sheet with a header saying who exported what and
when, then the columns' Chinese headers and the rows. Generic, so any list audit answers can be exported."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from contracts.workdays import SHANGHAI
from services.kit.auth import Principal

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROWS = 4  # title, who and when, the query's parameters, the column headers
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # Chinese, what the inspector reads


def _cell(value: Any) -> Any:
    """What a cell can hold: moments in Beijing time without zone (Excel has none), lists and dicts as text."""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).replace(tzinfo=None)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _text_safe(sheet: Any, value: Any) -> Any:
    """Typed text stays text: openpyxl would store a string starting with "=" as a formula, which Excel
    runs on opening (a resident's comment or an inspector's note must never do that)."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def build(*, title: str, exported_by: str, exported_at: datetime, parameters: Mapping[str, object],
          columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], note: str = "") -> bytes:
    """The .xlsx bytes: row 1 the title, row 2 who exported it and when, row 3 the parameters (and `note`),
    row 4 the headers, then one row per item."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_SHEET_NAME_FORBIDDEN.sub("_", title)[:31] or "导出")
    bold = WriteOnlyCell(sheet, value=title)
    bold.font = Font(bold=True, size=14)
    sheet.append([bold])
    when = exported_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    sheet.append([f"导出人：{exported_by}　导出时间：{when}（北京时间）"])
    given = "；".join(f"{k}={v}" for k, v in parameters.items() if v is not None) or "无"
    sheet.append([f"查询条件：{given}" + (f"　{note}" if note else "")])
    sheet.append([c.header for c in columns])
    for row in rows:
        sheet.append([_text_safe(sheet, _cell(row.get(c.key))) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(name: str, day: date) -> str:
    """attachment with an ASCII fallback and the Chinese name (RFC 6266 / 5987)."""
    return f"attachment; filename=\"export-{day.isoformat()}.xlsx\"; filename*=UTF-8''{quote(f'{name}-{day}.xlsx')}"


def exporter(principal: Principal) -> str:
    """Who exported, as the sheet names them."""
    return f"{principal.sub}（{principal.role}）"


def download(*, title: str, exported_by: str, exported_at: datetime, parameters: Mapping[str, object],
             columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], note: str = "") -> Response:
    """The workbook as an HTTP download named after its title and day."""
    body = build(title=title, exported_by=exported_by, exported_at=exported_at, parameters=parameters,
                 columns=columns, rows=rows, note=note)
    return Response(body, media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": content_disposition(title, exported_at.date())})
