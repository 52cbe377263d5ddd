import pytest

from services.notify.sms_text import billing_length, billing_segments, clean, shorten

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("typed", "kept"), [
    ("张三\n李四\r\n", "张三 李四"),  # no line break
    ("王\u2028芳\u2029", "王 芳"),  # nor a Unicode line or paragraph separator
    ("张\u202e三\u2066\u200b", "张三"),  # no bidi override, isolate or zero-width character
    ("赵\x00钱\x1b[31m孙", "赵 钱 [31m孙"),  # controls become a space, never reach the text
    ("【中国移动】您已中奖", "中国移动您已中奖"),  # no fake signature
    ("〖通知〗", "通知"),
])
def test_clean_keeps_one_visible_line_without_a_signature(typed, kept):
    assert clean(typed) == kept


@pytest.mark.parametrize("typed", [
    "点击 http://evil.example/x 领取", "点击 www.evil.cn 领取", "点击 t.cn/A6x 领取",
    "点击 evil.com 领取", "点击 ｅｖｉｌ．ｃｏｍ 领取", "点击 evil。com 领取", "点击 weixin://dl/x 领取",
    "点击 Evil.COM/path?q=1 领取",
])
def test_clean_removes_anything_like_a_link(typed):
    assert clean(typed) == "点击 领取"


def test_a_link_runs_to_the_next_space_or_punctuation():
    # over-removal is the safe side: the rest of a link glued to text could still be followed
    assert clean("点击https://a.b.cn领取，谢谢") == "点击，谢谢"


@pytest.mark.parametrize("typed", ["3.5公斤", "2026.11版", "第1.2条", "A4纸", "身份证No.1"])
def test_clean_keeps_ordinary_numbers_and_codes(typed):
    assert clean(typed) == typed


def test_shorten_cuts_with_an_ellipsis_and_no_trailing_punctuation():
    assert shorten("一二三四五六七八九十", 5) == "一二三四…"
    assert shorten("一二三。", 5) == "一二三"
    assert shorten("一二三，四五六", 5) == "一二三…"  # the cut never leaves a comma before the ellipsis
    assert shorten("一二三四五", 5) == "一二三四五"


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_segments_as_carriers_bill(length, segments):
    assert billing_segments("字" * length) == segments


def test_a_character_outside_the_basic_plane_counts_twice():
    # 𠮷 (U+20BB7) takes two UCS-2 units, as it does on the carrier's side
    assert billing_length("𠮷") == 2 and billing_segments("字" * 69 + "𠮷") == 2
