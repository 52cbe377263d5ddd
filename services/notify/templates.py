"""SMS texts residents and staff read: pure functions, one per template code, signed 【便民服务】."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from contracts.workdays import chinese_date as local_date

SIGNATURE = "【便民服务】"
NOTE_LIMIT = 30  # keeps a completion SMS within about two billing segments
SUBJECT_LIMIT = 24  # an item's or material's name in a staff SMS
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
                   tolerated_missing: bool = False, provisional: bool = False) -> str:
    text = (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}已受理，办件编号{case_no}，"
            f"承诺于{local_date(deadline)}前办结。")
    return text + _provisional(provisional) + ("请在办结前补齐容缺受理的材料。" if tolerated_missing else "")


def case_completed_granted(*, applicant_name: str, item_name: str, case_no: str, note: str = "") -> str:
    short = shorten(note)
    return (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}（办件编号{case_no}）已办结，结果：准予办理。"
            + (f"说明：{short}。" if short else "") + "欢迎对本次服务作出评价。")


def case_completed_refused(*, applicant_name: str, item_name: str, case_no: str, note: str = "") -> str:
    reason = shorten(note) or "请咨询办理窗口"
    return (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}（办件编号{case_no}）已办结，结果：不予办理，"
            f"原因：{reason}。如有异议，可依法申请行政复议或提起行政诉讼。")


def deadline_extended(*, applicant_name: str, item_name: str, case_no: str, days: int, reason: str,
                      deadline: datetime, provisional: bool = False) -> str:
    return (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}（办件编号{case_no}）经批准延长办理期限{days}个工作日，"
            f"理由：{shorten(reason)}。现承诺于{local_date(deadline)}前办结。" + _provisional(provisional))


def deadline_recalculated(*, applicant_name: str, item_name: str, case_no: str, deadline: datetime,
                          previous: datetime, years: Sequence[int], provisional: bool = False) -> str:
    return (f"{SIGNATURE}{applicant_name}您好，{'、'.join(map(str, years))}年法定节假日安排已公布，您申请的{item_name}"
            f"（办件编号{case_no}）承诺办结日期由{local_date(previous)}调整为{local_date(deadline)}。"
            + _provisional(provisional))


PAUSE_REASONS = {"hearing": "听证", "inspection": "检验", "testing": "检测", "appraisal": "鉴定",
                 "expert_review": "专家评审", "materials": "补正材料"}


def clock_paused(*, applicant_name: str, item_name: str, case_no: str, reason: str, note: str = "") -> str:
    short = shorten(note)
    return (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}（办件编号{case_no}）因{PAUSE_REASONS[reason]}暂停计时"
            + (f"（{short}）" if short else "") + "，所需时间不计入办理期限，恢复计时后将告知新的办结日期。")


def clock_resumed(*, applicant_name: str, item_name: str, case_no: str, deadline: datetime,
                  provisional: bool = False) -> str:
    return (f"{SIGNATURE}{applicant_name}您好，您申请的{item_name}（办件编号{case_no}）已恢复计时，"
            f"现承诺于{local_date(deadline)}前办结。" + _provisional(provisional))


# What is due, as staff call it: the case itself, a material accepted as owed (容缺), a complaint's answer, a follow-up.
DEADLINE_KINDS = {"case": "办件", "tolerated_material": "容缺材料", "complaint": "投诉答复", "follow_up": "回访"}
UNASSIGNED = "该件暂由综合窗口保管，尚无承办人，请指定承办人。"


def deadline_warning(*, staff_name: str, kind: str, case_no: str, subject: str, deadline: datetime,
                     unassigned: bool = False) -> str:
    return (f"{SIGNATURE}{staff_name}：{_reference(case_no, subject)}的{DEADLINE_KINDS[kind]}期限为"
            f"{local_date(deadline)}，即将到期（黄灯），请抓紧办理。" + (UNASSIGNED if unassigned else ""))


def deadline_breached(*, staff_name: str, kind: str, case_no: str, subject: str, deadline: datetime, late: timedelta,
                      holder: str = "", unassigned: bool = False) -> str:
    return (f"{SIGNATURE}{staff_name}：{_reference(case_no, subject)}的{DEADLINE_KINDS[kind]}期限"
            f"{local_date(deadline)}已过，超期{lateness(late)}（红灯），请尽快办理。"
            + (f"承办人：{holder}，请督办。" if holder else "") + (UNASSIGNED if unassigned else ""))


def case_flagged(*, staff_name: str, case_no: str, item_name: str, path: Sequence[str], transfer_count: int) -> str:
    return (f"{SIGNATURE}{staff_name}：办件{case_no}（{item_name}）已转办{transfer_count}次，"
            f"流转经过：{'→'.join(path)}，疑似推诿扯皮，请督办。")


def _reference(case_no: str, subject: str) -> str:
    """`QS-20261123-0001（城乡居民医保参保登记）`; a routing event before v1.1 carries neither."""
    short = shorten(subject, SUBJECT_LIMIT)
    return (case_no or "编号未知的办件") + (f"（{short}）" if short else "")


def _provisional(provisional: bool) -> str:
    return "该日期按暂定的节假日安排计算，如有调整将另行告知。" if provisional else ""


RENDERERS: dict[str, Callable[..., str]] = {
    "case_submitted": case_submitted,
    "case_completed_granted": case_completed_granted,
    "case_completed_refused": case_completed_refused,
    "deadline_extended": deadline_extended,
    "deadline_recalculated": deadline_recalculated,
    "clock_paused": clock_paused,
    "clock_resumed": clock_resumed,
    "deadline_warning": deadline_warning,
    "deadline_breached": deadline_breached,
    "case_flagged": case_flagged,
}


def render(template_code: str, params: Mapping[str, object]) -> str:
    """The text of one message; an unknown code is a programming error, not a resident's problem."""
    try:
        renderer = RENDERERS[template_code]
    except KeyError:
        raise ValueError(f"unknown SMS template {template_code!r}") from None
    return renderer(**params)
