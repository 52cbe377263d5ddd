"""Personal data: the one way each kind is masked wherever it is shown or stored outside its owner,
and the check character of a citizen ID number."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """`+8613800138000` -> `138****8000`: enough for staff to recognise, useless to anyone else."""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) < 8:
        return "*" * max(len(digits) - 2, 0) + digits[-2:]
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(number: str) -> str:
    """`11010519491231002X` -> `1101**********002X`: the region and the last digits, never the birth date."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_character(first17: str) -> str:
    """GB 11643 / ISO 7064 MOD 11-2 check character of the 17 ASCII digits before it."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def complainant_name_for(reader_id: str, *, name: str | None, about_staff_id: str | None) -> str | None:
    """A complainant's name as a reader may see it: never by the staff member complained about (no retaliation)."""
    return None if about_staff_id is not None and reader_id == about_staff_id else name
