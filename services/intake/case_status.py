"""Where a case stands, in the words a resident reads on the status page (办件进度查询). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from contracts.workdays import PROVISIONAL_MARK, SHANGHAI

STATUS_TEXT: dict[str, str] = {
    "received": "已收到申请材料，正在审查",
    "materials_requested": "申请材料需要补正，请按告知补齐下列材料",
    "submitted": "已受理，正在分送承办部门",
    "assigned": "承办部门正在办理",
    "completed": "已办结",
    "rejected": "不予受理",
}
RESULT_TEXT: dict[str, str] = {"granted": "准予办理", "refused": "不予办理"}
PROBLEM_TEXT: dict[str, str] = {"missing": "缺少", "faulty": "需更正"}
# Why routing's clock stands still (contracts.routing_events.PauseReason), as the resident reads it.
PAUSE_TEXT: dict[str, str] = {
    "materials": "等待申请人补正材料",
    "hearing": "听证",
    "inspection": "检验",
    "testing": "检测",
    "appraisal": "鉴定",
    "expert_review": "专家评审",
}


@dataclass(frozen=True)
class OwedMaterial:
    name: str
    problem: str  # missing | faulty
    note: str
    due: datetime | None
    due_provisional: bool = False


@dataclass(frozen=True)
class StatusFacts:
    """What the status page reads of a case; no personal data."""

    case_no: str
    item_name: str
    centre_name: str
    status: str
    department_name: str | None
    promised_deadline: datetime | None
    overdue: bool
    result: str | None
    completed_at: datetime | None
    rated: bool
    owed: tuple[OwedMaterial, ...]
    deadline_provisional: bool = False
    clock_paused_reason: str | None = None
    clock_paused_note: str | None = None
    # Both ratings, the second beside the first (整改后再评价): scores and when they were given.
    rating_score: int | None = None
    rated_at: datetime | None = None
    rate_again_asked: bool = False
    second_rating_score: int | None = None
    rated_again_at: datetime | None = None

    @property
    def can_rate_again(self) -> bool:
        return self.rated and self.rate_again_asked and self.rated_again_at is None


def local_date(at: datetime | None) -> date | None:
    return at.astimezone(SHANGHAI).date() if at else None


def status_text(status: str) -> str:
    return STATUS_TEXT.get(status, "办理中")


def open_case(status: str) -> bool:
    return status not in ("completed", "rejected")


def pause_text(facts: StatusFacts) -> str | None:
    """暂停计时 and why, while routing's clock stands still on an open case; None otherwise."""
    if facts.clock_paused_reason is None or not open_case(facts.status):
        return None
    why = PAUSE_TEXT.get(facts.clock_paused_reason, "依法不计入办理时限的程序")
    note = f"：{facts.clock_paused_note}" if facts.clock_paused_note else ""
    return f"暂停计时（{why}{note}），所需时间不计入办理时限，恢复计时后办结日期相应顺延"


def deadline_text(facts: StatusFacts) -> str | None:
    """承诺办结日期, marked while it rests on the provisional calendar (暂定日历)."""
    promised = local_date(facts.promised_deadline)
    if promised is None or not open_case(facts.status):
        return None
    return (f"承诺办结日期：{promised:%Y年%m月%d日}" + (PROVISIONAL_MARK if facts.deadline_provisional else "")
            + ("（已超期，我们正在督办）" if facts.overdue else ""))


def due_text(material: OwedMaterial) -> str | None:
    due = local_date(material.due)
    if due is None:
        return None
    return f"{due:%Y年%m月%d日}前补交" + (PROVISIONAL_MARK if material.due_provisional else "")


def summary(facts: StatusFacts) -> str:
    """One sentence for the top of the page."""
    parts = [f"您申请的“{facts.item_name}”{status_text(facts.status)}"]
    if facts.status == "completed" and facts.result in RESULT_TEXT:
        parts.append(f"办理结果：{RESULT_TEXT[facts.result]}")
    if facts.status != "completed" and facts.department_name:
        parts.append(f"承办部门：{facts.department_name}")
    if deadline := deadline_text(facts):
        parts.append(deadline)
    if paused := pause_text(facts):
        parts.append(paused)
    if facts.owed:
        parts.append("尚需补交：" + "、".join(m.name for m in facts.owed))
    return "；".join(parts) + "。"


def rating_text(*, status: str, rated: bool, asked_again: bool = False, rated_again: bool = False) -> str:
    if rated_again:
        return "您已再次评价，两次评价均已记录，感谢您的监督"
    if rated and asked_again:
        return "您反映的问题已整改答复，欢迎您再次评价"
    if rated:
        return "您已评价，感谢您的评价"
    if status == "completed":
        return "办件已办结，欢迎您对本次服务进行评价"
    return "办结后可以评价"
