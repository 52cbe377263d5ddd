"""Field types for everything a client sends: checked at the edge, so nothing PostgreSQL, Kafka or an SMS
gateway could choke on (NUL, control or bidi characters, lone surrogates, non-ASCII digits) enters the outbox.

Each refusal raises a `PydanticCustomError` whose type is a stable code; `services.kit.errors` words it in
Chinese. The rules and limits are recorded in docs/adr/0010-edge-input.md.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from contracts.personal_data import id_check_character
from contracts.workdays import SHANGHAI

# PostgreSQL bigint: no integer a client sends may overflow a column or an asyncpg argument.
PG_BIGINT_MAX = 2**63 - 1

# C0 and C1 controls and DEL; LF is let through only where a field says it is multi-line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LF = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
# Line and paragraph separators break a single line just like LF does.
_LINE_BREAKS = re.compile("[\u2028\u2029]")
# Bidirectional embeddings, overrides, isolates and marks (Trojan Source, CVE-2021-42574).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SURROGATE = re.compile("[\ud800-\udfff]")

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
_CODE = re.compile(CODE_PATTERN, re.ASCII)
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_EARLIEST_BIRTH = date(1900, 1, 1)
# What a person may type around a number: a leading +, spaces, hyphens, parentheses; only ASCII digits.
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,24}", re.ASCII)
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        if _SURROGATE.search(value):  # NFC of a lone surrogate would be meaningless; refuse before it
            raise PydanticCustomError("text_surrogate", "text contains a lone surrogate")
        return unicodedata.normalize("NFC", value).strip()
    return value


def _safe_text(value: str, *, multiline: bool) -> str:
    if (_CONTROL_BUT_LF if multiline else _CONTROL).search(value):
        raise PydanticCustomError("text_control_char", "text contains NUL or a control character")
    if not multiline and _LINE_BREAKS.search(value):
        raise PydanticCustomError("text_control_char", "text contains a line break")
    if _BIDI.search(value):
        raise PydanticCustomError("text_bidi_control", "text contains a bidirectional control character")
    return value


def _single_line(value: str) -> str:
    return _safe_text(value, multiline=False)


def _multi_line(value: Any) -> Any:
    if isinstance(value, str):  # one line ending for every client, before the control check
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def text(max_length: int, *, min_length: int = 0, multiline: bool = False, **field: Any) -> Any:
    """Free text: NFC-normalised, trimmed, no NUL / control / bidi characters, at most `max_length` code points."""
    # Annotated applies left to right; a BeforeValidator wraps everything left of it, so NFC runs first,
    # the length is counted on the normalised text (pydantic's string_too_long), and the character check last.
    checks: list[Any] = [Field(min_length=min_length, max_length=max_length, **field)]
    if multiline:
        checks += [AfterValidator(lambda v: _safe_text(v, multiline=True)), BeforeValidator(_multi_line)]
    else:
        checks.append(AfterValidator(_single_line))
    return Annotated[str, *checks, BeforeValidator(_nfc)]


def _code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise PydanticCustomError("code_invalid", "only ASCII letters, digits, _ and - are allowed")
    return value


def code(max_length: int = 32, **field: Any) -> Any:
    """An identifier-like code (item, township, village, department, material): safe ASCII only."""
    return Annotated[str, Field(min_length=1, max_length=max_length, json_schema_extra={"pattern": CODE_PATTERN},
                                **field), AfterValidator(_code)]


def dedupe(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def today_in_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


def _id_number(value: str) -> str:
    value = value.upper()
    if not _ID_NUMBER.fullmatch(value):
        raise PydanticCustomError("id_number_format", "17 ASCII digits and a digit or X")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise PydanticCustomError("id_number_birth_date", "the birth date is not a real date") from None
    if not _EARLIEST_BIRTH <= born <= today_in_shanghai():
        raise PydanticCustomError("id_number_birth_date", "the birth date is in the future or before 1900")
    if id_check_character(value[:17]) != value[17]:
        raise PydanticCustomError("id_number_checksum", "the check character does not match")
    return value


IdNumber = Annotated[str, Field(
    min_length=18, max_length=18, json_schema_extra={"pattern": r"^[0-9]{17}[0-9Xx]$"},
    description="18-character citizen ID number (GB 11643): ASCII digits, valid birth date, check character.",
    examples=["11010519491231002X"]), AfterValidator(_id_number)]


@functools.cache
def phone_regions() -> tuple[str, ...]:
    """Regions whose mobile numbers are accepted: `BIANMIN_PHONE_REGIONS`, comma-separated, default mainland CN."""
    raw = os.environ.get("BIANMIN_PHONE_REGIONS", "CN")
    return tuple(r.strip().upper() for r in raw.split(",") if r.strip()) or ("CN",)


def _phone(value: str) -> str:
    # phonenumbers reads full-width and Arabic-Indic digits as digits: refuse them before it sees the text.
    if not _PHONE.fullmatch(value):
        raise PydanticCustomError("phone_invalid", "ASCII digits only")
    regions = phone_regions()
    try:
        number = phonenumbers.parse(value, regions[0])
    except phonenumbers.NumberParseException:
        raise PydanticCustomError("phone_invalid", "not a phone number") from None
    if (not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) not in regions
            or phonenumbers.number_type(number) not in _MOBILE_TYPES):
        raise PydanticCustomError("phone_invalid", "not a mobile number of an accepted region")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


MobilePhone = Annotated[str, Field(
    min_length=5, max_length=25, json_schema_extra={"pattern": r"^\+?[0-9][0-9 ()-]{4,24}$"},
    description="Mobile number (mainland China unless BIANMIN_PHONE_REGIONS says otherwise); answered in E.164.",
    examples=["13800138000"]), AfterValidator(_phone)]


def bounded_int(*, ge: int = 0, le: int = 2**31 - 1, **field: Any) -> Any:
    """An integer a client sends, always with both bounds."""
    return Annotated[int, Field(ge=ge, le=le, **field)]


# The shapes the four services share; a schema adds its description and example with Field().
Code = code()
PersonName = text(50, min_length=1)
ShortText = text(500)  # comments, reasons: one line
Reason = text(200, min_length=1)  # a reason that must be given, recorded in the case history
Note = text(200)  # a short optional remark: what is wrong with a material, how a result was received
LegalBasis = text(500, min_length=1)  # a legal provision, e.g. 《行政许可法》第三十二条
LongText = text(1000, multiline=True)  # a decision's grounds may run over several lines
SeqNumber = bounded_int(le=PG_BIGINT_MAX)
WindowNo = code(8)  # a window of the hall, as numbered above it: "3", "A2"
ComplaintText = text(2000, multiline=True)  # a complaint and its answer may be long
StaffId = code(64)  # a staff member, e.g. qs-social_security-01
ItemCode = code(16)  # an item of the service catalogue, e.g. SB-002
StaffName = text(40, min_length=1)  # a staff member's name as the presence board shows it
EvidenceRef = text(200, min_length=1)  # where evidence is kept: a document number, a photo, minutes
