"""What inspectors read instead of codes: the Chinese name of every event type and actor role, and a
one-line Chinese summary of an event's payload. A guard test keeps every type of contracts.events named."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from contracts.inspection_events import MEASURE_LABELS

EVENT_LABELS: dict[str, str] = {
    "CaseSubmitted": "受理登记", "ApplicationReceived": "收到申请（待审查）", "MaterialsRequested": "一次性告知补正",
    "MaterialsSupplied": "补齐材料", "ToleratedMaterialDue": "容缺材料补交期限", "CaseRejectedAtIntake": "不予受理",
    "CaseReferred": "转介他处", "ConsultationLogged": "咨询登记", "ComplaintRegistered": "投诉举报登记",
    "MaterialsHandedOver": "代办材料交接", "ResultDelivered": "办理结果送达", "CaseRated": "办事评价",
    "ContactErased": "联系方式删除", "CaseAssigned": "分派承办", "CaseTransferred": "转办",
    "CaseFlagged": "异常标记", "JointTaskAssigned": "联办任务分派", "JointTaskDone": "联办意见",
    "CaseEscalated": "上报县级部门", "EscalationAnswered": "县级部门答复", "ClockPaused": "计时暂停",
    "ClockResumed": "计时恢复", "DeadlineExtended": "延期", "DeadlineRecalculated": "期限重算",
    "CaseCompleted": "办结", "DeadlineWarning": "临期预警", "DeadlineBreached": "超期",
    "ComplaintAnswered": "投诉答复", "TicketIssued": "取号", "TicketCalled": "叫号", "ServiceStarted": "开始办理",
    "ServiceEnded": "窗口服务结束", "NotificationSent": "短信已发出", "NotificationDelivered": "短信已送达",
    "NotificationFailed": "短信发送失败", "AuditCheckpointed": "审计检查点签名", "StaffRecorded": "工作人员登记",
    "StaffPresenceChanged": "在岗状态变更", "StaffAbsenceRecorded": "缺岗记录", "RosterSet": "排班",
    "AuditQueried": "审计查询留痕", "AccountabilityRecorded": "责任追究记录",
    # The bad-rating loop (差评闭环, ADR 37)
    "FollowUpOpened": "差评回访立项", "FollowUpRecorded": "差评回访核实", "RectificationRecorded": "差评整改",
    "RatingAppealed": "差评申诉", "RatingAppealDecided": "差评申诉复核决定",
}

ROLE_LABELS: dict[str, str] = {
    "staff": "窗口工作人员", "village_agent": "村代办员", "centre_head": "中心负责人", "inspector": "纪检监察人员",
    "admin": "系统管理员", "resident": "群众", "system": "系统",
}

_RESULTS = {"granted": "准予", "refused": "不予"}
_PAUSES = {"materials": "补正材料", "hearing": "听证", "inspection": "现场核查", "testing": "检验检测",
           "appraisal": "鉴定", "expert_review": "专家评审"}
_OUTCOMES = {"served": "已办理", "no_show": "过号"}
_MEANS = {"phone": "电话", "home_visit": "上门", "at_the_centre": "到中心", "sms": "短信", "wechat": "微信",
          "other": "其他方式"}
_GROUNDS = {"wrong_case": "评价对象错误", "about_the_law": "对法律政策本身不满", "malicious": "恶意差评",
            "mistaken": "误操作", "other": "其他"}
_DEADLINE_KINDS = {"case": "办件", "tolerated_material": "容缺材料", "complaint": "投诉", "follow_up": "回访"}


def _names(materials: list[dict[str, Any]]) -> str:
    return "、".join(m.get("name") or m.get("code", "") for m in materials)


def _codes(values: list[str]) -> str:
    return "、".join(values) or "无"


def _with(text: str, detail: str | None) -> str:
    return f"{text}（{detail}）" if detail else text


# One line per event type, from its payload as stored (JSON); a type left out is summarised by its label alone.
_SUMMARIES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "CaseSubmitted": lambda p: f"{p['item_name']}，申请人{p['applicant_name']}，承诺{p['promised_limit_days']}个工作日",
    "ApplicationReceived": lambda p: f"{p['item_name']}，申请人{p['applicant_name']}，待审查",
    "MaterialsRequested": lambda p: f"第{p['notice_no']}次告知，需补：{_names(p['materials'])}",
    "MaterialsSupplied": lambda p: f"补交：{_codes(p['materials'])}" + ("，材料已齐" if p["complete"]
                                                                       else f"，仍欠：{_codes(p['still_owed'])}"),
    "ToleratedMaterialDue": lambda p: f"容缺材料：{_names(p['materials'])}",
    "CaseRejectedAtIntake": lambda p: f"理由：{p['reason']}；依据：{p['legal_basis']}",
    "CaseReferred": lambda p: f"{p['matter']}，转介至{p['referred_to']}",
    "ConsultationLogged": lambda p: f"问：{p['question']}",
    "ComplaintRegistered": lambda p: f"{p['complaint_no']}：{p['subject']}",
    "MaterialsHandedOver": lambda p: f"代办员{p['agent_id']}交{p['received_by']}：{_codes(p['materials'])}",
    "ResultDelivered": lambda p: f"由{p['delivered_by']}送达",
    "CaseRated": lambda p: f"{p['score']}分" + (f"：{p['comment']}" if p.get("comment") else ""),
    "ContactErased": lambda p: f"理由：{p['reason']}",
    "CaseAssigned": lambda p: f"分派至{p['department_name']}" + (
        f"，承办人{p['staff_id']}" if p.get("staff_id") else "，由综合窗口暂管"),
    "CaseTransferred": lambda p: f"转办至{p['to_department_name']}（理由：{p['reason']}）",
    "CaseFlagged": lambda p: f"已转办{p['transfer_count']}次，疑似推诿",
    "JointTaskAssigned": lambda p: f"{p['department_code']}联办",
    "JointTaskDone": lambda p: f"{p['department_code']}意见：{_RESULTS.get(p['result'], p['result'])}",
    "CaseEscalated": lambda p: f"上报{p['county_department']}",
    "EscalationAnswered": lambda p: f"县级答复：{_RESULTS.get(p['result'], p['result'])}",
    "ClockPaused": lambda p: _with(f"因{_PAUSES.get(p['reason'], p['reason'])}暂停计时", p.get("note")),
    "ClockResumed": lambda p: f"暂停{p['paused_working_days']}个工作日后恢复计时",
    "DeadlineExtended": lambda p: f"延期{p['extension_working_days']}个工作日（理由：{p['reason']}）",
    "DeadlineRecalculated": lambda p: "按正式节假日安排重算期限",
    "CaseCompleted": lambda p: f"{_RESULTS.get(p['result'], p['result'])}，" + ("按期办结" if p["on_time"] else "超期办结"),
    "DeadlineWarning": lambda p: f"{_DEADLINE_KINDS.get(p['deadline_kind'], '')}期限将到",
    "DeadlineBreached": lambda p: f"{_DEADLINE_KINDS.get(p['deadline_kind'], '')}已超期",
    "ComplaintAnswered": lambda p: "已答复" + ("（投诉属实）" if p["upheld"] else ""),
    "TicketIssued": lambda p: f"{p['ticket_no']}号（{p['queue']}）",
    "TicketCalled": lambda p: f"{p['ticket_no']}号到{p['window_no']}号窗口",
    "ServiceStarted": lambda p: f"{p['ticket_no']}号在{p['window_no']}号窗口",
    "ServiceEnded": lambda p: f"{p['ticket_no']}号{_OUTCOMES.get(p['outcome'], p['outcome'])}",
    "NotificationSent": lambda p: f"模板{p['template_code']}发往{p['recipient_masked']}",
    "NotificationFailed": lambda p: f"模板{p['template_code']}未能送达",
    "AuditCheckpointed": lambda p: f"签至第{p['head_seq']}条",
    "AuditQueried": lambda p: f"查询{p['query']}，{p['result_count']}条结果",
    "AccountabilityRecorded": lambda p: f"{MEASURE_LABELS.get(p['measure'], p['measure'])}：{p['description']}",
    "FollowUpOpened": lambda p: f"{p['score']}分差评，责任人{p.get('owner_staff_id') or '中心负责人'}，"
                                f"回访{p['visit_limit_days']}个工作日、整改{p['rectification_limit_days']}个工作日内完成",
    "FollowUpRecorded": lambda p: (f"{_MEANS.get(p['means'], p['means'])}回访，" + (
        ("反映属实" if p["complaint_holds"] else "反映不属实") if p["reached"] else "未联系上群众")
        + ("" if p["on_time"] else "（超期）")),
    "RectificationRecorded": lambda p: f"整改：{p['measures']}" + ("" if p["on_time"] else "（超期）"),
    "RatingAppealed": lambda p: f"{_GROUNDS.get(p['ground'], p['ground'])}：{p['reason']}",
    "RatingAppealDecided": lambda p: ("申诉成立" if p["upheld"] else "申诉不成立") + f"（{p['reason']}）",
}


def event_label(event_type: str) -> str:
    return EVENT_LABELS.get(event_type, event_type)


def role_label(kind: str) -> str:
    return ROLE_LABELS.get(kind, kind)


def summary(event_type: str, payload: Mapping[str, Any]) -> str:
    """One line for the timeline; an event whose payload does not fit (an older schema) is named by its label."""
    describe = _SUMMARIES.get(event_type)
    try:
        return describe(payload) if describe else event_label(event_type)
    except (KeyError, TypeError):
        return event_label(event_type)
