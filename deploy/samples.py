"""Sample residents' cases for the demo, the benchmark and the end-to-end tests."""

from __future__ import annotations

import random

from contracts.personal_data import id_check_character


def id_number(seed: int | None = None) -> str:
    """A valid 18-digit ID-card number (checksum per GB 11643), different per seed."""
    rnd = random.Random(seed)
    body = f"330102{rnd.randint(1950, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    return body + id_check_character(body)


COMPLETE_SB_002 = ["id_card", "hukou", "bank_card", "photo"]


def case_body(seed: int = 1, *, item_code: str = "SB-002", township_id: str = "qingshui", channel: str = "window",
              village_id: str | None = None, materials: list[str] | None = None) -> dict:
    """A submission of a pension claim, complete unless `materials` says otherwise, the applicant differing per seed."""
    body = {
        "item_code": item_code, "township_id": township_id, "channel": channel,
        "applicant": {"name": "王秀英", "id_number": id_number(seed), "phone": "13912345678"},
        "materials": COMPLETE_SB_002 if materials is None else materials,
    }
    if village_id:
        body["village_id"] = village_id
    return body
