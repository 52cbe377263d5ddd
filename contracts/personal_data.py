"""The one way each kind of personal data is masked, wherever it is shown or stored outside its owner."""

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
