"""SMS texts residents and staff read: pure functions, one per template code, signed 【便民服务】."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from contracts.workdays import chinese_date as local_date

SIGNATURE = "【便民服务】"
NOTE_LIMIT = 30  # keeps a completion SMS within about two billing segments
_TRAILING = "。．.；;，,！!、 "


def shorten(text: str, limit: int = NOTE_LIMIT) -> str:
    """One line, no closing punctuation (the template adds its own), at most `limit` characters."""
    flat = " ".join(text.split()).rstrip(_TRAILING)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip(_TRAILING) + "…"


def lateness(late: timedelta) -> str:
    """`不足1小时`, `5小时`, `2天`, `2天3小时`."""
    hours = int(max(late, timedelta(0)).total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if not days:
        return f"{hours}小时" if hours else "不足1小时"
    return f"{days}天{hours}小时" if hours else f"{days}天"


def case_submitted(*, applicant_name: str, item_name: str, case_no: str, deadline: datetime,
                   tolerated_missing: bool = False) -> str:
    text = (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}已受理，办件编号{case_no}，"
            f"承诺于{local_date(deadline)}前办结。")
    return text + ("请在办结前补齐容缺受理的材料。" if tolerated_missing else "")


def case_completed_granted(*, applicant_name: str, item_name: str, case_no: str, note: str = "") -> str:
    short = shorten(note)
    return (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}（办件编号{case_no}）已办结，结果：准予办理。"
            + (f"说明：{short}。" if short else "") + "欢迎对本次服务作出评价。")


def case_completed_refused(*, applicant_name: str, item_name: str, case_no: str, note: str = "") -> str:
    reason = shorten(note) or "请咨询办理窗口"
    return (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}（办件编号{case_no}）已办结，结果：不予办理，"
            f"原因：{reason}。如有异议，可依法申请行政复议或提起行政诉讼。")


def deadline_breached(*, staff_name: str, case_no: str, item_name: str, deadline: datetime, late: timedelta,
                      via_centre_head: bool = False) -> str:
    text = (f"{SIGNATURE}{staff_name}：办件{case_no}（{item_name}）已超过承诺办结期限{local_date(deadline)}，"
            f"超期{lateness(late)}，请尽快办理。")
    return text + ("承办部门未登记值班电话，请中心督办。" if via_centre_head else "")


RENDERERS: dict[str, Callable[..., str]] = {
    "case_submitted": case_submitted,
    "case_completed_granted": case_completed_granted,
    "case_completed_refused": case_completed_refused,
    "deadline_breached": deadline_breached,
}


def render(template_code: str, params: Mapping[str, object]) -> str:
    """The text of one message; an unknown code is a programming error, not a resident's problem."""
    try:
        renderer = RENDERERS[template_code]
    except KeyError:
        raise ValueError(f"unknown SMS template {template_code!r}") from None
    return renderer(**params)
