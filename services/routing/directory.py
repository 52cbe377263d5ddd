"""The county's departments (部门/站所) and, for tests and the demo, the staff of the seed file per township."""

from __future__ import annotations

# The departments are shared with intake, which checks codes against them.
from contracts.departments import DEPARTMENTS as DEPARTMENTS
from services.routing.staff_file import load_staff_file

_SEED = load_staff_file()
TOWNSHIPS: tuple[str, ...] = tuple(t.township_id for t in _SEED.townships)
# One row per staff member of deploy/staff/demo-county.yaml, e.g. qs-social_security-01; centre heads included.
STAFF: list[dict[str, str]] = [
    {"staff_id": s.staff_id, "township_id": s.township_id, "department_code": s.department_code, "name": s.name,
     "role": s.role} for s in _SEED.staff if s.role != "village_agent"]
# The village agents (代办员) of the seed file, e.g. qs-agent-dongfeng: no department, never given a case.
AGENTS: list[dict[str, str]] = [
    {"staff_id": s.staff_id, "township_id": s.township_id, "village_id": s.village_id or "", "name": s.name}
    for s in _SEED.staff if s.role == "village_agent"]
