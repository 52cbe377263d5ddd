"""Request bodies for the end-to-end scenarios."""

from __future__ import annotations

import random

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(seed: int | None = None) -> str:
    """A valid 18-digit ID-card number (checksum per GB 11643), different per seed."""
    rnd = random.Random(seed)
    body = f"330102{rnd.randint(1950, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


def case_body(seed: int = 1, *, item_code: str = "SB-002", township_id: str = "qingshui") -> dict:
    return {
        "item_code": item_code, "township_id": township_id, "channel": "window",
        "applicant": {"name": "王秀英", "id_number": id_number(seed), "phone": "13912345678"},
        "materials": ["id_card", "hukou", "bank_card", "photo"],
    }
