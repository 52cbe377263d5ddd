"""The staff seed file (工作人员名录, deploy/staff/): its shape, its checks, and reading it.

County IT edits the file; a wrong one stops routing at start with a message naming the staff member and
field. Skills are item codes of the service catalogue, which routing does not read: they are accepted by
their shape (e.g. YB-001), and a code the catalogue lacks simply never matches a case.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.departments import DEPARTMENTS
from contracts.staff_events import VILLAGE_POINT, StaffRole
from services.kit import data_files
from services.kit.fields import CODE_PATTERN, MobilePhone
from services.routing import village_agents
from services.routing.staff import ITEM_CODE, StaffRecord

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "deploy" / "staff" / "demo-county.yaml"
OFFICE_LINE_PATTERN = r"^[0-9][0-9 -]{4,19}$"
_Code = Field(min_length=1, max_length=32, pattern=CODE_PATTERN)


class StaffFileError(data_files.DataFileError):
    """The staff file cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class StaffSpec(_Strict):
    """One staff member as county IT records them (the file's rows and the PUT endpoint's body)."""

    staff_id: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)
    township_id: str = _Code
    department_code: str = _Code
    role: StaffRole = "staff"
    name: str = Field(min_length=1, max_length=40)
    window_no: str | None = Field(default=None, min_length=1, max_length=8, pattern=CODE_PATTERN)
    skills: tuple[str, ...] = Field(default=(), max_length=50)
    phone: MobilePhone | None = None
    active: bool = True
    # A village agent's village point (deploy/catalogue/): kept in the file for county IT, not by routing.
    village_id: str | None = Field(default=None, min_length=1, max_length=32, pattern=CODE_PATTERN)

    @field_validator("department_code")
    @classmethod
    def _known_department(cls, value: str) -> str:
        if value not in DEPARTMENTS and value != VILLAGE_POINT:
            raise ValueError(f"department_code {value!r} is not a department of the county")
        return value

    @field_validator("skills")
    @classmethod
    def _item_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if bad := [c for c in value if not ITEM_CODE.fullmatch(c)]:
            raise ValueError(f"skills {', '.join(bad)} are not item codes like YB-001")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _agent_shape(self) -> StaffSpec:
        if error := village_agents.shape_error(role=self.role, department_code=self.department_code, skills=self.skills,
                                               window_no=self.window_no, village_id=self.village_id, with_village=True):
            raise ValueError(error)
        return self

    def record(self) -> StaffRecord:
        return StaffRecord(**self.model_dump(exclude={"village_id"}))


class TownshipLines(_Strict):
    township_id: str = _Code
    enquiry_line: str = Field(pattern=OFFICE_LINE_PATTERN, description="The centre's enquiry line (咨询电话).")
    office_lines: dict[str, str] = Field(default_factory=dict, description="Department code -> office phone.")

    @model_validator(mode="after")
    def _lines(self) -> TownshipLines:
        for code, phone in self.office_lines.items():
            if code not in DEPARTMENTS:
                raise ValueError(f"office_lines: {code!r} is not a department of the county")
            if not re.fullmatch(OFFICE_LINE_PATTERN, phone):
                raise ValueError(f"office_lines: {code} {phone!r} is not an office phone number")
        return self


class StaffFile(_Strict):
    townships: tuple[TownshipLines, ...] = Field(min_length=1)
    staff: tuple[StaffSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> StaffFile:
        townships = [t.township_id for t in self.townships]
        for what, values in (("townships: township_id", townships), ("staff: staff_id", [s.staff_id for s in self.staff])):
            if dup := sorted(v for v, n in Counter(values).items() if n > 1):
                raise ValueError(f"{what} {', '.join(dup)} appears more than once")
        for s in self.staff:
            if s.township_id not in townships:
                raise ValueError(f"staff {s.staff_id}: township_id {s.township_id!r} is not in townships")
        heads = Counter(s.township_id for s in self.staff if s.role == "centre_head" and s.active)
        if missing := sorted(set(townships) - set(heads)):
            raise ValueError(f"township {', '.join(missing)} has no active centre head (role: centre_head)")
        return self


def parse_staff_file(raw: Any, *, source: str = "staff file") -> StaffFile:
    """The staff file from parsed YAML, or StaffFileError naming the staff member (by id) and field at fault."""
    return data_files.parse(raw, StaffFile, source=source, what="staff file", entries=("staff", "staff_id", "staff"),
                            error=StaffFileError)


def load_staff_file(path: Path | str = DEFAULT_FILE) -> StaffFile:
    """Reads and checks the staff file; StaffFileError when it is missing, not YAML or not valid."""
    path = Path(path)
    return parse_staff_file(data_files.read_yaml(path, what="staff file", error=StaffFileError), source=str(path))


if __name__ == "__main__":  # county IT checks an edited file: python -m services.routing.staff_file [FILE]
    try:
        checked = load_staff_file(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FILE)
    except StaffFileError as exc:
        sys.exit(str(exc))
    sys.stdout.write(f"staff file: {len(checked.townships)} townships, {len(checked.staff)} staff\n")
