"""Village agents (代办员) in the staff file: they take applications at a village point and pass messages on
to residents without a mobile (notify texts them through the staff-contacts topic). They belong to a
township and a village, to no department, and are never given a case: their department code is
`village_point`, which no case has, and they have no skills, no window and no place on the presence board.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.staff_events import VILLAGE_POINT


def shape_error(*, role: str, department_code: str, skills: Sequence[str], window_no: str | None,
                village_id: str | None = None, with_village: bool = False) -> str | None:
    """What is wrong with a staff row as to village agents, or None. `with_village`: the row can name a
    village (the staff file), and an agent must."""
    if role != "village_agent":
        if department_code == VILLAGE_POINT:
            return f"department_code {VILLAGE_POINT} is only for role village_agent"
        return "village_id is only for role village_agent" if village_id is not None else None
    if department_code != VILLAGE_POINT:
        return f"a village_agent has department_code {VILLAGE_POINT}"
    if skills or window_no is not None:
        return "a village_agent has no skills and no window_no"
    if with_village and village_id is None:
        return "a village_agent names their village_id (a village point of the catalogue)"
    return None
