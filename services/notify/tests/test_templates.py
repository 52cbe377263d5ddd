from datetime import UTC, datetime, timedelta

import pytest

from services.notify import templates
from services.notify.tests.builders import DEADLINE

pytestmark = pytest.mark.unit


def test_case_submitted_matches_the_agreed_wording():
    text = templates.case_submitted(applicant_name="张三", item_name="城乡居民养老保险待遇申领",
                                    case_no="QS-20261123-0001", deadline=DEADLINE)
    assert text == ("【便民服务】张三您好，您申请的城乡居民养老保险待遇申领已受理，办件编号QS-20261123-0001，"
                    "承诺于2026年12月7日前办结。")


def test_deadline_is_the_shanghai_calendar_day():
    # 16:30 UTC on 7 December is already 8 December in Shanghai
    assert templates.local_date(datetime(2026, 12, 7, 16, 30, tzinfo=UTC)) == "2026年12月8日"
    assert templates.local_date(datetime(2026, 12, 7, 15, 59, tzinfo=UTC)) == "2026年12月7日"


def test_tolerated_missing_materials_are_reminded():
    text = templates.case_submitted(applicant_name="李四", item_name="X", case_no="N", deadline=DEADLINE,
                                    tolerated_missing=True)
    assert text.endswith("请在办结前补齐容缺受理的材料。")


def test_granted_shortens_the_note_and_invites_a_rating():
    note = "已办结，养老保险待遇自次月起按月发放至您登记的社会保障卡银行账户，请注意查收，如有疑问请致电社保站。"
    text = templates.case_completed_granted(applicant_name="张三", item_name="养老待遇", case_no="QS-1", note=note)
    assert text.startswith("【便民服务】张三您好") and "结果：准予办理" in text
    shown = text.split("说明：")[1].split("。")[0]
    assert len(shown) == templates.NOTE_LIMIT and shown.endswith("…") and note.startswith(shown[:-1])
    assert text.endswith("欢迎对本次服务作出评价。")


def test_granted_without_note_has_no_empty_explanation():
    text = templates.case_completed_granted(applicant_name="张三", item_name="养老待遇", case_no="QS-1", note="  ")
    assert "说明" not in text


def test_refused_names_the_grounds_and_the_appeal_route():
    text = templates.case_completed_refused(applicant_name="王五", item_name="低保", case_no="QS-2",
                                            note="家庭人均收入\n高于当地低保标准。")
    assert "结果：不予办理，原因：家庭人均收入 高于当地低保标准。如有异议" in text
    assert "行政复议" in text and "行政诉讼" in text
    assert "原因：请咨询办理窗口。" in templates.case_completed_refused(applicant_name="王五", item_name="低保",
                                                                      case_no="QS-2")


@pytest.mark.parametrize(("late", "shown"), [
    (timedelta(minutes=5), "不足1小时"), (timedelta(hours=5, minutes=59), "5小时"), (timedelta(days=2), "2天"),
    (timedelta(days=2, hours=3), "2天3小时"), (timedelta(seconds=-3), "不足1小时"),
])
def test_lateness_is_readable(late, shown):
    assert templates.lateness(late) == shown


def test_breach_names_what_is_late_the_deadline_and_lateness():
    text = templates.deadline_breached(staff_name="王芳", kind="case", case_no="QS-20261123-0001", subject="养老待遇",
                                       deadline=DEADLINE, late=timedelta(days=1, hours=2))
    assert text == ("【便民服务】王芳：QS-20261123-0001（养老待遇）的办件期限2026年12月7日已过，超期1天2小时（红灯），"
                    "请尽快办理。")
    to_head = templates.deadline_breached(staff_name="赵主任", kind="complaint", case_no="TS-1", subject="", holder="",
                                          deadline=DEADLINE, late=timedelta(0), unassigned=True)
    assert "TS-1的投诉答复期限" in to_head and to_head.endswith("该件暂由综合窗口保管，尚无承办人，请指定承办人。")


def test_a_long_subject_is_shortened_and_a_missing_case_number_said():
    text = templates.deadline_warning(staff_name="王芳", kind="tolerated_material", case_no="",
                                      subject="户口簿" * 20, deadline=DEADLINE)
    assert "编号未知的办件（户口簿" in text and "…）的容缺材料期限为2026年12月7日，即将到期（黄灯）" in text


def test_resident_deadline_texts():
    extended = templates.deadline_extended(applicant_name="张三", item_name="宅基地审批", case_no="QS-9", days=10,
                                           reason="需现场踏勘。", deadline=DEADLINE)
    assert extended == ("【便民服务】张三您好，您申请的宅基地审批（办件编号QS-9）经批准延长办理期限10个工作日，"
                        "理由：需现场踏勘。现承诺于2026年12月7日前办结。")
    moved = templates.deadline_recalculated(applicant_name="张三", item_name="X", case_no="QS-9", deadline=DEADLINE,
                                            previous=DEADLINE - timedelta(days=2), years=[2027, 2028])
    assert "2027、2028年法定节假日安排已公布" in moved and "由2026年12月5日调整为2026年12月7日。" in moved
    paused = templates.clock_paused(applicant_name="张三", item_name="X", case_no="QS-9", reason="expert_review")
    assert "因专家评审暂停计时，所需时间不计入办理期限" in paused
    resumed = templates.clock_resumed(applicant_name="张三", item_name="X", case_no="QS-9", deadline=DEADLINE,
                                      provisional=True)
    assert resumed.endswith("现承诺于2026年12月7日前办结。该日期按暂定的节假日安排计算，如有调整将另行告知。")
    provisional = templates.case_submitted(applicant_name="张三", item_name="X", case_no="N", deadline=DEADLINE,
                                           provisional=True, tolerated_missing=True)
    assert "前办结。该日期按暂定的节假日安排计算，如有调整将另行告知。请在办结前补齐" in provisional


def test_every_template_is_signed_and_unknown_codes_fail():
    assert set(templates.RENDERERS) == {
        "case_submitted", "case_completed_granted", "case_completed_refused", "deadline_extended",
        "deadline_recalculated", "clock_paused", "clock_resumed", "deadline_warning", "deadline_breached",
        "case_flagged"}
    text = templates.render("case_completed_refused", {"applicant_name": "A", "item_name": "B", "case_no": "C"})
    assert text.startswith(templates.SIGNATURE)
    with pytest.raises(ValueError):
        templates.render("case_rated", {})
