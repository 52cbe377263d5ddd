"""What inspectors look for (异常), pure: one rule per kind turns a row of the read model into a finding
with its Chinese summary and the audit records it rests on, or into nothing.

The SQL (anomaly_store) selects candidates; each rule decides. For most kinds the SQL condition is
already exact; a bad rating's visit and rectification are due by the county's dates from FollowUpOpened
(ADR 37), else by audit's limits in working days on the official calendar, which only the rule counts
(the SQL keeps ratings older than that many calendar days, a superset).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from contracts.workdays import SHANGHAI, WorkingCalendar

AnomalyKind = Literal[
    "overdue_case", "ping_pong", "second_notice", "refusal_without_centre_head", "bad_rating_without_follow_up",
    "rectification_overdue", "completed_without_resident_told", "absent_on_market_day", "complaint_unanswered",
    "top_breaching_staff"]
LABELS: dict[str, str] = {
    "overdue_case": "超期办件",
    "ping_pong": "推诿扯皮（来回转办）",
    "second_notice": "多次告知（二次告知材料）",
    "refusal_without_centre_head": "未经中心负责人审批的不予受理",
    "bad_rating_without_follow_up": "差评未按时回访",
    "rectification_overdue": "差评整改超期",
    "completed_without_resident_told": "办结后未告知群众",
    "absent_on_market_day": "逢场天、集中办理日离岗",
    "complaint_unanswered": "投诉举报逾期未答复",
    "top_breaching_staff": "违规次数最多的工作人员",
}
DAY_KINDS = {"market_day": "逢场天", "office_day": "集中办理日"}
ABSENCE_KINDS = {"not_at_post": "无故不在岗", "overdue_return": "外出逾期未归"}


@dataclass(frozen=True)
class Limits:
    follow_up_working_days: int
    rectification_working_days: int
    resident_told_hours: int


@dataclass(frozen=True)
class Finding:
    summary: str
    evidence: list[UUID]
    at: datetime | None
    case_id: UUID | None = None
    case_no: str | None = None
    township_id: str | None = None
    department_code: str | None = None
    staff_id: str | None = None
    count: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Row = Mapping[str, Any]
Rule = Callable[[Row, datetime, Limits, WorkingCalendar], "Finding | None"]


def _day(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d")


def _ids(*ids: UUID | None) -> list[UUID]:
    return [i for i in ids if i is not None]


def _case(row: Row, summary: str, evidence: list[UUID], at: datetime | None, *, staff: str | None = None) -> Finding:
    return Finding(summary=summary, evidence=evidence, at=at, case_id=row["case_id"], case_no=row["case_no"],
                   township_id=row["township_id"], department_code=row["department_code"],
                   staff_id=staff if staff is not None else row["staff_id"])


def overdue_case(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    deadline, done = row["promised_deadline"], row["completed_at"]
    staff = row["breached_staff_id"] or row["staff_id"]
    evidence = _ids(row["breached_event_id"], row["completed_event_id"], row["submitted_event_id"])
    if done is not None and row["on_time"] is False:
        summary = f"逾期办结：承诺期限 {_day(deadline)}，{_day(done)} 办结" if deadline else "逾期办结"
    elif done is None and row["rejected_at"] is None and deadline is not None and deadline < now:
        days = (now - deadline).days
        summary = f"超过承诺期限 {_day(deadline)}" + (f" {days} 天" if days else "") + "仍未办结"
    elif row["breached_at"] is not None:
        summary = f"曾超过承诺期限（{_day(row['breached_at'])} 亮红灯）"
    else:
        return None
    return _case(row, summary, evidence, deadline, staff=staff)


def ping_pong(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    if row["ping_pong_at"] is None:
        return None
    path = " → ".join(row["ping_pong_path"] or [])
    return _case(row, f"办件在科室间来回流转：{path}（转办 {row['transfers']} 次）", _ids(row["ping_pong_event_id"]),
                 row["ping_pong_at"])


def second_notice(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    if not row["second_notices"]:
        return None
    return _case(row, f"一次性告知后又告知 {row['second_notices']} 次（共告知 {row['notices']} 次）",
                 _ids(row["second_notice_event_id"]), row["second_notice_at"], staff=row["first_contact_staff_id"])


def refusal_without_centre_head(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    if row["rejected_at"] is None:
        return None
    approver, role, township = row["rejection_approved_by"], row["approver_role"], row["approver_township"]
    if role == "centre_head" and township == row["township_id"]:
        return None
    known = "未登记" if role is None else f"登记为{township}的{role}"
    return _case(row, f"不予受理由 {approver} 审批，其并非本乡镇中心负责人（{known}）", _ids(row["rejected_event_id"]),
                 row["rejected_at"], staff=row["rejection_proposed_by"] or approver)


def _rating_unanswered(row: Row, now: datetime, calendar: WorkingCalendar, *, days: int, due_column: str,
                       done_column: str, what: str) -> Finding | None:
    rated = row["rated_at"]
    if rated is None or row["rating_score"] is None or row["rating_score"] > 2 or row["rating_excluded"]:
        return None
    due = row.get(due_column) or calendar.deadline_for(rated, days)  # the county's, else audit's limit
    done = row[done_column]
    if due >= now or (done is not None and done <= due):
        return None
    late = f"，{_day(done)} 才{what}" if done else f"，至今未{what}"
    return _case(row, f"{_day(rated)} 差评（{row['rating_score']} 分），应于 {_day(due)} 前{what}{late}",
                 _ids(row["rating_event_id"], row.get("opened_event_id")), rated)


def bad_rating_without_follow_up(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    return _rating_unanswered(row, now, calendar, days=limits.follow_up_working_days, due_column="visit_due",
                              done_column="followed_up_at", what="回访")


def rectification_overdue(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    if row.get("complaint_holds") is False:  # the visit found the complaint unfounded: nothing to rectify
        return None
    return _rating_unanswered(row, now, calendar, days=limits.rectification_working_days,
                              due_column="rectification_due", done_column="rectified_at", what="整改")


def completed_without_resident_told(row: Row, now: datetime, limits: Limits,
                                    calendar: WorkingCalendar) -> Finding | None:
    done = row["completed_at"]
    if done is None or row["resident_told_at"] is not None or done + timedelta(hours=limits.resident_told_hours) > now:
        return None
    return _case(row, f"{_day(done)} 办结，超过 {limits.resident_told_hours} 小时未短信告知群众办理结果",
                 _ids(row["completed_event_id"]), done, staff=row["completed_by"])


def absent_on_market_day(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    day_kind = DAY_KINDS.get(row["day_kind"])
    if day_kind is None:
        return None
    return Finding(summary=f"{row['duty_date']}（{day_kind}）{ABSENCE_KINDS.get(row['kind'], row['kind'])}",
                   evidence=[row["event_id"]], at=row["noticed_at"], township_id=row["township_id"],
                   staff_id=row["staff_id"], department_code=row.get("department_code"))


def complaint_unanswered(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    due = row["answer_due"]
    if row["answered_at"] is not None or due is None or due >= now:
        return None
    return Finding(summary=f"投诉举报“{row['subject']}”应于 {_day(due)} 前答复，至今未答复",
                   evidence=_ids(row["registered_event_id"]), at=due, case_id=row["complaint_id"],
                   case_no=row["complaint_no"], township_id=row["township_id"],
                   department_code=row["department_code"], staff_id=row["about_staff_id"])


def top_breaching_staff(row: Row, now: datetime, limits: Limits, calendar: WorkingCalendar) -> Finding | None:
    if not row["total"]:
        return None
    summary = (f"{row['name'] or row['staff_id']}：超期办件 {row['overdue']} 件，离岗 {row['absences']} 次，"
               f"投诉属实 {row['upheld_complaints']} 件")
    return Finding(summary=summary, evidence=[i for i in row["event_ids"] if i is not None], at=row["latest"],
                   township_id=row["township_id"], department_code=row["department_code"], staff_id=row["staff_id"],
                   count=row["total"])


RULES: dict[str, Rule] = {
    "overdue_case": overdue_case, "ping_pong": ping_pong, "second_notice": second_notice,
    "refusal_without_centre_head": refusal_without_centre_head,
    "bad_rating_without_follow_up": bad_rating_without_follow_up, "rectification_overdue": rectification_overdue,
    "completed_without_resident_told": completed_without_resident_told, "absent_on_market_day": absent_on_market_day,
    "complaint_unanswered": complaint_unanswered, "top_breaching_staff": top_breaching_staff,
}
