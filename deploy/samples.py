"""Sample residents' cases for the demo, the benchmark and the end-to-end tests."""

from __future__ import annotations

import random

from contracts.personal_data import id_check_character


def id_number(seed: int | None = None) -> str:
    """A valid 18-digit ID-card number (checksum per GB 11643), different per seed."""
    rnd = random.Random(seed)
    body = f"330102{rnd.randint(1950, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    return body + id_check_character(body)


def case_body(seed: int = 1, *, item_code: str = "SB-002", township_id: str = "qingshui") -> dict:
    """A complete submission (受理) of a pension claim, the applicant differing per seed."""
    return {
        "item_code": item_code, "township_id": township_id, "channel": "window",
        "applicant": {"name": "王秀英", "id_number": id_number(seed), "phone": "13912345678"},
        "materials": ["id_card", "hukou", "bank_card", "photo"],
    }
