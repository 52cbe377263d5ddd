"""Who gets a case (分办 to a person): pure choice of a holder among the staff present and able."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A staff member of the case's township, active and on duty now, with their open cases."""

    staff_id: str
    department_code: str
    skills: frozenset[str]
    open_cases: int


def is_able(*, department_code: str, skills: Iterable[str], case_department: str, item_code: str) -> bool:
    """Of the case's department, or holding its item among their skills (一专多能)."""
    return department_code == case_department or item_code in skills


def choose_holder(candidates: Iterable[Candidate], *, department_code: str, item_code: str) -> str | None:
    """Fewest open cases first; ties: own department before skills, then the lowest staff id.

    None when nobody able is present: the general window then holds the case.
    """
    able = [c for c in candidates if is_able(department_code=c.department_code, skills=c.skills,
                                             case_department=department_code, item_code=item_code)]
    if not able:
        return None
    best = min(able, key=lambda c: (c.open_cases, c.department_code != department_code, c.staff_id))
    return best.staff_id
