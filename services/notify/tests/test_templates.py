from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from services.notify import templates
from services.notify.tests.builders import DEADLINE

pytestmark = pytest.mark.unit

CASE = {"applicant_name": "张三", "item_name": "城乡居民养老保险待遇申领", "case_no": "QS-20261123-0001"}
# Values every template may need, for rendering each one.
SAMPLE = {**CASE, "deadline": DEADLINE, "previous": DEADLINE - timedelta(days=2), "years": [2027], "days": 10,
          "reason": "hearing", "note": "", "materials": ["户口簿"], "subject": "户口簿", "link": "https://x.gov.cn/r/a",
          "expires": DEADLINE, "staff_name": "王芳", "kind": "case", "late": timedelta(hours=5), "path": "医保站→社保站",
          "transfer_count": 2, "score": 1, "complaint_no": "QS-T-1", "complaint_kind": "complaint",
          "answer": "已公示材料清单", "visit_due": DEADLINE, "rectification_due": DEADLINE, "step": "follow_up:visit",
          "ground": "malicious", "appellant": "社保站王芳"}


def test_case_submitted_matches_the_agreed_wording_and_the_township_signs_it():
    text = templates.render("case_submitted", {**CASE, "deadline": DEADLINE}, township_id="qingshui")
    assert text == ("【清水镇便民服务中心】张三您好，您申请的城乡居民养老保险待遇申领已受理，办件编号QS-20261123-0001，"
                    "承诺于2026年12月7日前办结。")
    assert templates.render("case_submitted", {**CASE, "deadline": DEADLINE}, township_id="baishi").startswith(
        "【白石乡便民服务中心】张三")
    # A township the file does not know yet is signed with the default
    assert templates.render("case_submitted", {**CASE, "deadline": DEADLINE}, township_id="nowhere").startswith(
        "【便民服务】张三")


def test_the_deadline_is_the_shanghai_calendar_day():
    at = {**CASE, "deadline": datetime(2026, 12, 7, 16, 30, tzinfo=UTC)}  # already 8 December in Shanghai
    assert "承诺于2026年12月8日前办结" in templates.render("case_submitted", at)


def test_optional_parts_follow_their_fields():
    text = templates.render("case_submitted", {**CASE, "deadline": DEADLINE, "provisional": True,
                                               "tolerated_missing": True})
    assert text.endswith("前办结。该日期按暂定的节假日安排计算，如有调整将另行告知。请在办结前补齐容缺受理的材料。")
    refused = templates.render("case_completed_refused", {**CASE, "note": ""})
    assert "原因请咨询办理窗口。" in refused and "原因：" not in refused
    assert "原因：家庭人均收入 高于当地低保标准。" in templates.render(
        "case_completed_refused", {**CASE, "note": "家庭人均收入\n高于当地低保标准。"})


def test_a_missing_field_fails_loudly_and_names_it():
    with pytest.raises(templates.TemplateFieldMissing) as raised:
        templates.compose("case_submitted", CASE, township_id="qingshui")
    assert raised.value.field == "deadline" and "deadline" in str(raised.value)
    with pytest.raises(templates.UnknownTemplate):
        templates.compose("case_rated", {}, township_id=None)
    with pytest.raises(templates.UnknownLabel):
        templates.render("clock_paused", {**CASE, "reason": "weather"})


def test_typed_text_is_cleaned_and_cut_to_its_limit():
    note = "已办结，待遇自次月起按月发放至您登记的社会保障卡银行账户，请注意查收，详见 http://evil.cn/x 【社保局】"
    text = templates.render("case_completed_granted", {**CASE, "applicant_name": "张\u202e三\n", "note": note},
                            township_id="qingshui")
    assert text.startswith("【清水镇便民服务中心】张三您好")
    shown = text.split("说明：")[1].split("。")[0]
    limit = templates.book().limits["note"]
    assert len(shown) <= limit and shown.endswith("…") and note.startswith(shown[:-1])
    assert "http" not in text and "evil" not in text and text.count("【") == 1 and "\n" not in text


def test_granted_says_where_to_collect_and_refused_the_appeal_route():
    granted = templates.render("case_completed_granted", {**CASE, "note": ""}, township_id="hexi")
    assert "说明" not in granted and "到河西街道滨江大道206号领取（周一至周五9:00-12:00" in granted
    refused = templates.render("case_completed_refused", {**CASE, "note": "不符合条件"}, township_id="qingshui")
    assert "六十日内申请行政复议或六个月内提起行政诉讼" in refused and "到清水镇人民路88号领取" in refused


def test_every_template_renders_signed_and_is_counted():
    for code in templates.book().templates:
        rendered = templates.compose(code, SAMPLE, township_id="qingshui")
        assert rendered.text.startswith("【清水镇便民服务中心】") and "{" not in rendered.text
        assert rendered.segments == (1 if len(rendered.text) <= 70 else -(-len(rendered.text) // 67))
        assert rendered.version == f"{templates.book().version}/{templates.book().templates[code].version}"


def test_the_link_of_the_rating_invitation_is_kept_whole():
    text = templates.render("rating_invitation", {"case_no": "QS-1", "link": "https://bm.example.gov.cn/r/abc_-1",
                                                  "expires": DEADLINE})
    assert "https://bm.example.gov.cn/r/abc_-1 " in text and "2026年12月7日前有效" in text


def test_staff_templates():
    breach = templates.render("deadline_breached", {"staff_name": "王芳", "kind": "complaint", "case_no": "TS-1",
                                                    "subject": "", "deadline": DEADLINE, "late": timedelta(days=1),
                                                    "unassigned": True})
    assert breach == ("【便民服务】王芳：TS-1的投诉答复期限2026年12月7日已过，超期1天（红灯），请尽快办理。"
                      "该件暂由综合窗口保管，尚无承办人，请指定承办人。")
    to_hold = templates.render("case_to_hold", {"staff_name": "王芳", **CASE, "transferred_from": "医保站"})
    assert to_hold == "【便民服务】王芳：办件QS-20261123-0001（城乡居民养老保险待遇申领）已由您承办（由医保站转来），请及时办理。"
    bad = templates.render("bad_rating", {"staff_name": "赵主任", **CASE, "score": 1, "comment": "等了\n两小时www.x.cn"})
    assert bad.endswith("收到差评（1分），评价：等了 两小时。回访整改责任人和期限随后告知。")
    complaint = templates.render("complaint_registered", {"staff_name": "赵主任", "complaint_kind": "report",
                                                          "complaint_no": "QS-T-1", "subject": "窗口无人",
                                                          "deadline": DEADLINE, "about_staff": True})
    assert complaint == ("【便民服务】赵主任：收到举报QS-T-1，事由：窗口无人，须于2026年12月7日前答复，请指定调查人。"
                         "被投诉人不得参与调查。")


@pytest.mark.parametrize(("late", "shown"), [
    (timedelta(minutes=5), "不足1小时"), (timedelta(hours=5, minutes=59), "5小时"), (timedelta(days=2), "2天"),
    (timedelta(days=2, hours=3), "2天3小时"), (timedelta(seconds=-3), "不足1小时"),
])
def test_lateness_is_readable(late, shown):
    assert templates.lateness(late) == shown


def test_a_bad_template_file_is_refused_with_where(tmp_path: Path):
    raw = yaml.safe_load(templates.TEMPLATE_FILE.read_text(encoding="utf-8"))
    raw["townships"]["qingshui"]["signature"] = "【清水】"
    raw["templates"]["clock_paused"]["text"] = ["{reason:weather}"]
    del raw["townships"]["default"]
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(templates.TemplateFileError) as raised:
        templates.load(path)
    assert "townships.qingshui.signature" in str(raised.value)


def test_shown_values_are_what_the_text_shows_for_a_provider_own_template():
    shown = templates.shown_values("deadline_breached", {
        "staff_name": "王\u202e芳", "kind": "tolerated_material", "case_no": "QS-1", "subject": "户口簿 http://x.cn",
        "deadline": DEADLINE, "late": timedelta(days=2), "unassigned": False}, township_id="qingshui")
    assert {k: shown[k] for k in ("staff_name", "kind", "subject", "deadline", "late", "unassigned")} == {
        "staff_name": "王芳", "kind": "容缺材料", "subject": "户口簿", "deadline": "2026年12月7日", "late": "2天",
        "unassigned": "否"}
    assert shown["address"] == "清水镇人民路88号"  # the township's own values too
