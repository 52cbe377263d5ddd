"""The edge field types refuse each hostile class of input with a stable error type."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import pytest
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from services.kit import fields
from services.kit.fields import Code, IdNumber, LongText, MobilePhone, PersonName, ShortText

pytestmark = pytest.mark.unit
VALID_ID = "11010519491231002X"


class Form(BaseModel):
    name: PersonName = "张三"
    comment: ShortText = ""
    note: LongText = ""
    code: Code = "SB-002"
    id_number: IdNumber = VALID_ID
    phone: MobilePhone = "13800138000"
    materials: Annotated[list[Code], Field(max_length=3), AfterValidator(fields.dedupe)] = []


def refusal(**values) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        Form(**values)
    [error] = caught.value.errors()
    return error["type"], ".".join(map(str, error["loc"]))


def with_check_char(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def test_valid_input_is_normalised():
    form = Form(name=" 张三 ", note="第一行\r\n第二行", id_number=VALID_ID.lower(), phone="138-0013-8000",
                materials=["id_card", "hukou", "id_card"])
    assert form.name == "张三" and form.note == "第一行\n第二行" and form.id_number == VALID_ID
    assert form.phone == "+8613800138000" and form.materials == ["id_card", "hukou"]


def test_text_is_nfc_normalised():
    assert Form(name="e\u0301").name == "\u00e9"


@pytest.mark.parametrize("field", ["name", "comment", "note"])
@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b", "a\tb"])
def test_nul_and_control_characters_are_refused(field, bad):
    assert refusal(**{field: bad}) == ("text_control_char", field)


@pytest.mark.parametrize("field", ["name", "comment"])
@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\u2028b"])
def test_single_line_text_refuses_line_breaks(field, bad):
    assert refusal(**{field: bad}) == ("text_control_char", field)


@pytest.mark.parametrize("bidi", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069", "\u200e", "\u200f", "\u061c"])
def test_bidirectional_controls_are_refused(bidi):
    assert refusal(comment=f"好评{bidi}差评") == ("text_bidi_control", "comment")


def test_lone_surrogates_are_refused():
    assert refusal(name="张\ud800") == ("text_surrogate", "name")


def test_overlong_text_is_refused():
    assert refusal(name="张" * 51) == ("string_too_long", "name")
    assert refusal(comment="好" * 501) == ("string_too_long", "comment")
    assert Form(comment="好" * 500).comment == "好" * 500


@pytest.mark.parametrize("bad", ["中文", "a b", "a/b", "a\x00", "ｓｂ", "-lead", "a" * 33, "a.b"])
def test_codes_are_safe_ascii(bad):
    kind, where = refusal(code=bad)
    assert where == "code" and kind in ("code_invalid", "string_too_long")


@pytest.mark.parametrize("digits", [
    "１１０１０５１９４９１２３１００２X",  # full-width
    "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic
    "11010519491231002²",  # superscript two as the check character's place
    "1101051949123100²X",
])
def test_id_numbers_take_ascii_digits_only(digits):
    assert refusal(id_number=digits) == ("id_number_format", "id_number")


def test_id_number_checksum_and_birth_date():
    assert refusal(id_number="110105194912310021") == ("id_number_checksum", "id_number")
    assert refusal(id_number=with_check_char("11010519490231002")) == ("id_number_birth_date", "id_number")
    assert refusal(id_number=with_check_char("11010518991231002")) == ("id_number_birth_date", "id_number")


def test_id_number_birth_date_in_the_future_is_refused(monkeypatch):
    tomorrow = fields.today_in_shanghai() + timedelta(days=1)
    future = with_check_char(f"110105{tomorrow:%Y%m%d}002")
    assert refusal(id_number=future) == ("id_number_birth_date", "id_number")
    monkeypatch.setattr(fields, "today_in_shanghai", lambda: tomorrow)
    assert Form(id_number=future).id_number == future


@pytest.mark.parametrize("phone", ["１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠", "1380013800²", "13800138000\x00",
                                   "12345", "010-12345678", "+1 202 555 0143", "+8613800138000x"])
def test_phones_are_ascii_mainland_mobiles(phone):
    assert refusal(phone=phone) == ("phone_invalid", "phone")


def test_phone_regions_are_configurable(monkeypatch):
    monkeypatch.setenv("BIANMIN_PHONE_REGIONS", "CN,HK")
    fields.phone_regions.cache_clear()
    try:
        assert Form(phone="+852 5123 4567").phone == "+85251234567"
    finally:
        monkeypatch.delenv("BIANMIN_PHONE_REGIONS")
        fields.phone_regions.cache_clear()
    assert refusal(phone="+852 5123 4567") == ("phone_invalid", "phone")


def test_arrays_are_bounded_and_deduplicated_in_order():
    assert Form(materials=["b", "a", "b"]).materials == ["b", "a"]
    assert refusal(materials=["a", "b", "c", "d"]) == ("too_long", "materials")
    assert refusal(materials=["a", "a", "a", "a"]) == ("too_long", "materials")  # the bound counts what was sent
    assert refusal(materials=["ok", "不行"]) == ("code_invalid", "materials.1")
