"""The printed documents: folded from intake events, rendered with the embedded Chinese font, read back as text."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools import subset

from services.intake.app import create_app
from services.intake.catalogue_file import load_catalogue
from services.intake.document_data import fold
from services.intake.documents import render_notice, render_receipt, render_referral, render_rejection
from services.intake.service_halls import hall_of
from services.intake.settings import IntakeSettings
from services.intake.tests.document_events import (
    AT,
    LEGAL_BASIS,
    NAMES,
    PHOTO,
    REASON,
    embedded_font_files,
    pdf_text,
    referred,
    rejected,
    requested,
    stream,
    submitted,
    supplied,
    tolerated_due,
)
from services.kit.auth import ConfigurationError
from services.kit.pdf import check_font, wrap

pytestmark = pytest.mark.unit
FONT = IntakeSettings().font_file
HALL = hall_of(load_catalogue(), "qingshui")


def documents(*payloads):
    events = stream(*payloads)
    return fold(events[0].case_id, "qingshui", events, NAMES)


def test_receipt_names_the_case_its_materials_what_is_owed_and_the_promise():
    docs = documents(submitted(), tolerated_due())
    pdf = render_receipt(docs.receipt, hall=HALL, font=FONT, printed_at=AT)
    text = pdf_text(pdf)
    for expected in ("受理回执", "清水镇便民服务中心", "QS-20261124-0007", "城乡居民养老保险待遇申领", "王秀英",
                     "1101**********002X", "居民身份证", "户口簿", "本人银行卡或存折",
                     "近期免冠照片：请于2026年12月9日前补交",  # the tolerated material and its due day
                     "承诺于2026年12月8日前办结", "10个工作日", "首问负责人：qs-general_window-01",
                     "受理日期：2026年11月24日",  # 17:30 UTC is the next day in Asia/Shanghai
                     HALL.address, HALL.hours, HALL.phone):
        assert expected in text, expected
    assert embedded_font_files(pdf) == ["/FontFile2"]
    assert len(pdf) < 200_000  # a subset of the 10 MB font, not the whole of it


def test_supplied_materials_leave_the_owed_list_of_a_reprinted_receipt():
    docs = documents(submitted(), tolerated_due(), supplied("photo"))
    assert docs.receipt.owed == () and "近期免冠照片" in docs.receipt.materials_received
    text = pdf_text(render_receipt(docs.receipt, hall=HALL, font=FONT, printed_at=AT))
    assert "还需要补交" not in text and "近期免冠照片" in text


def test_tolerated_material_without_a_due_day_yet_still_prints():
    text = pdf_text(render_receipt(documents(submitted()).receipt, hall=HALL, font=FONT, printed_at=AT))
    assert "近期免冠照片：补交期限以窗口告知为准" in text


def test_receipt_of_an_immediate_case_and_of_one_deemed_accepted():
    immediate = documents(submitted(tolerated=(), promised_limit_days=0, deemed_accepted=True)).receipt
    text = pdf_text(render_receipt(immediate, hall=HALL, font=FONT, printed_at=AT))
    assert "本事项为即办件，承诺于2026年12月8日办结" in text and "依法视为自收到材料之日起已受理" in text
    assert "还需要补交" not in text and "节假日不计算在内" not in text


def test_one_time_notice_lists_every_material_with_what_counts_as_valid():
    docs = documents(requested(1))
    text = pdf_text(render_notice(docs.notices[1], hall=HALL, font=FONT, printed_at=AT))
    for expected in ("一次性告知书", "QS-20261124-0007-告1", "城乡居民养老保险待遇申领",
                     "本人银行卡或存折（不符合要求）：须为本人名下的一类银行卡", "户口簿（缺少）：户主页和本人页",
                     "告知日期：2026年11月24日"):
        assert expected in text, expected
    assert "第二次告知" not in text


def test_a_second_notice_says_so_plainly():
    docs = documents(requested(1), requested(2, second=True, materials=(PHOTO,)))
    assert set(docs.notices) == {1, 2}
    text = pdf_text(render_notice(docs.notices[2], hall=HALL, font=FONT, printed_at=AT))
    assert "第二次告知" in text and "2026.11-r1" in text and "QS-20261124-0007-告2" in text and "近期免冠照片" in text


def test_rejection_gives_reason_basis_approver_and_the_residents_rights():
    docs = documents(requested(1), rejected())
    assert docs.receipt is None and docs.rejection is not None
    text = pdf_text(render_rejection(docs.rejection, case_no="QS-20261124-0007", hall=HALL, font=FONT, printed_at=AT))
    for expected in ("不予受理通知书", "QS-20261124-0007", "王秀英", f"理由：{REASON}", f"依据：{LEGAL_BASIS}",
                     "审批人（中心负责人）：qs-head", "六十日内依法申请行政复议", "六个月内依法向人民法院提起行政诉讼"):
        assert expected in text, expected


def test_a_rejection_without_an_earlier_application_still_prints():
    docs = documents(rejected("材料不属于本中心受理范围"))
    assert docs.rejection.application is None
    text = pdf_text(render_rejection(docs.rejection, case_no=str(docs.case_id), hall=HALL, font=FONT, printed_at=AT))
    assert "材料不属于本中心受理范围" in text and "申请人" not in text


def test_referral_says_where_to_go():
    docs = documents(referred())
    text = pdf_text(render_referral(docs.referral, case_no=str(docs.case_id), hall=HALL, font=FONT, printed_at=AT))
    for expected in ("转介告知单", "办理不动产登记", "县政务服务中心不动产登记窗口", "县城人民路8号", "工作日 9:00-17:00",
                     "请携带身份证和房产证"):
        assert expected in text, expected


def test_a_long_typed_reason_wraps_onto_more_lines_and_pages():
    reason = "申请材料与户籍登记信息不一致，" * 33  # 500 characters, the longest a reason may be
    docs = documents(requested(1), rejected(reason))
    text = pdf_text(render_rejection(docs.rejection, case_no="QS-20261124-0007", hall=HALL, font=FONT, printed_at=AT))
    assert reason in text


def test_no_font_file_refuses_to_start(tmp_path):
    with pytest.raises(ConfigurationError, match="INTAKE_FONT_FILE"):
        check_font(tmp_path / "missing.ttf", setting="INTAKE_FONT_FILE")
    with pytest.raises(ConfigurationError, match="INTAKE_FONT_FILE"):
        create_app(IntakeSettings(font_file=tmp_path / "missing.ttf"))
    (tmp_path / "not-a-font.ttf").write_bytes(b"\x00\x01\x00\x00 not really")
    with pytest.raises(ConfigurationError, match="not a readable"):
        check_font(tmp_path / "not-a-font.ttf", setting="INTAKE_FONT_FILE")


def test_a_font_without_chinese_glyphs_refuses_to_start(tmp_path: Path):
    latin = tmp_path / "latin-only.ttf"
    options = subset.Options()
    font = subset.load_font(str(FONT), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="ABCDEFG 0123456789")
    subsetter.subset(font)
    subset.save_font(font, str(latin), options)
    with pytest.raises(ConfigurationError, match="lacks Simplified-Chinese glyphs"):
        check_font(latin, setting="INTAKE_FONT_FILE")
    check_font(FONT, setting="INTAKE_FONT_FILE")  # the installed one passes


def test_lines_break_anywhere_but_before_closing_punctuation():
    assert wrap("一二三四五六", len, 3) == ["一二三", "四五六"]
    assert wrap("一二三。四五", len, 3) == ["一二三。", "四五"]  # the full stop hangs, it does not start a line
    assert wrap("一二三。。四", len, 3) == ["一二三。", "。四"]  # one hanging mark at most: typed text stays on the page
    assert wrap("甲\n乙", len, 3) == ["甲", "乙"]
    assert wrap("", len, 3) == [""]


def test_a_character_the_font_lacks_is_marked_not_dropped(caplog):
    docs = documents(requested(1, applicant_name="𠮷野 😀"), rejected())
    text = pdf_text(render_rejection(docs.rejection, case_no="QS-1", hall=HALL, font=FONT, printed_at=AT))
    assert "申请人：〓野 〓（" in text
    assert "missing the following glyphs" not in caplog.text  # nor are a resident's characters logged
