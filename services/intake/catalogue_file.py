"""The service catalogue file (服务事项目录, deploy/catalogue/): its shape, its checks, and reading it.

County IT edits the file; a wrong one stops intake at start with a message naming the item and field,
rather than letting a case be taken in under a promise the law does not allow.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.events import CaseKind
from services.intake.items import Item, Material
from services.kit import data_files

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "deploy" / "catalogue" / "demo-county.yaml"

Category = Literal["licence", "confirmation", "public_service", "convenience", "other_power"]
HandlingLevel = Literal["village", "township", "county"]
Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
Name = Field(min_length=1, max_length=100)




class CatalogueError(data_files.DataFileError):
    """The catalogue file cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class MaterialSpec(_Strict):
    code: str = Code
    name: str = Name
    essential: bool
    valid_when: str = Field(min_length=1, max_length=200, description="What counts as valid (原件及复印件1份 …).")


class ItemSpec(_Strict):
    item_code: str = Code
    name: str = Name
    category: Category
    handling_level: HandlingLevel
    kind: CaseKind
    department_code: str = Code
    joint_departments: tuple[str, ...] = Field(
        default=(), description="联办件 only: the other departments that each decide a share (department codes).")
    legal_limit_days: int = Field(ge=0, le=365, description="法定办结时限, working days.")
    promised_limit_days: int = Field(ge=0, le=365, description="承诺办结时限, working days; at most the legal one.")
    fee: str = Field(default="不收费", min_length=1, max_length=200)
    agent_may_take: bool = Field(description="A village agent (代办员) may take it in for a resident.")
    tolerated_due_days: int = Field(default=10, ge=1, le=60, description="Working days to bring a tolerated material.")
    legal_basis: str = Field(min_length=1, max_length=500, description="设定依据.")
    offered_in: tuple[str, ...] | None = Field(default=None, min_length=1, description="Township ids; none: all.")
    materials: tuple[MaterialSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ItemSpec:
        if self.kind == "returned":
            raise ValueError("kind: 'returned' is what a case becomes, not what an item is")
        if self.promised_limit_days > self.legal_limit_days:
            raise ValueError(f"promised_limit_days {self.promised_limit_days} exceeds legal_limit_days "
                             f"{self.legal_limit_days}")
        if dup := _duplicates(m.code for m in self.materials):
            raise ValueError(f"materials: code {', '.join(dup)} appears more than once")
        self._joint_consistent()
        return self

    def _joint_consistent(self) -> None:
        if self.kind == "joint" and not self.joint_departments:
            raise ValueError("joint_departments: a joint item (kind: joint) names the other departments deciding it")
        if self.kind != "joint" and self.joint_departments:
            raise ValueError(f"joint_departments: only a joint item has them, this one is kind {self.kind!r}")
        if self.department_code in self.joint_departments:
            raise ValueError(f"joint_departments: {self.department_code!r} is the item's own department")
        if dup := _duplicates(self.joint_departments):
            raise ValueError(f"joint_departments: {', '.join(dup)} appears more than once")

    def to_item(self, catalogue_version: str) -> Item:
        return Item(
            item_code=self.item_code, name=self.name, kind=self.kind, department_code=self.department_code,
            promised_limit_days=self.promised_limit_days, legal_limit_days=self.legal_limit_days,
            materials=tuple(Material(m.code, m.name, m.essential, m.valid_when) for m in self.materials),
            category=self.category, handling_level=self.handling_level, fee=self.fee,
            agent_may_take=self.agent_may_take, tolerated_due_days=self.tolerated_due_days,
            catalogue_version=catalogue_version,
            offered_in=frozenset(self.offered_in) if self.offered_in is not None else None,
            joint_departments=self.joint_departments,
        )

    def content(self) -> dict[str, Any]:
        """What is compared between versions and stored: everything the file says about the item."""
        # Left out when empty, so items that are not joint read as they did before the field existed.
        return self.model_dump(mode="json", exclude={"joint_departments"} if not self.joint_departments else None)


class Village(_Strict):
    village_id: str = Code
    name: str = Name


class Township(_Strict):
    township_id: str = Code
    name: str = Name
    case_prefix: str = Field(pattern=r"^[A-Z]{2,4}$")
    address: str = Field(min_length=1, max_length=200)
    office_hours: str = Field(min_length=1, max_length=200)
    enquiry_line: str = Field(default="12345", min_length=1, max_length=40,
                              description="The number residents call to ask (咨询电话), printed on documents.")
    villages: tuple[Village, ...] = Field(min_length=1)


class Department(_Strict):
    code: str = Code
    name: str = Name


class CatalogueFile(_Strict):
    version: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
    townships: tuple[Township, ...] = Field(min_length=1)
    departments: tuple[Department, ...] = Field(min_length=1)
    materials_library: dict[str, MaterialSpec] = Field(
        default_factory=dict, description="Materials several items share (YAML anchors); not read otherwise.")
    items: tuple[ItemSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> CatalogueFile:
        for what, codes in (("townships: township_id", [t.township_id for t in self.townships]),
                            ("townships: case_prefix", [t.case_prefix for t in self.townships]),
                            ("townships: village_id", [v.village_id for t in self.townships for v in t.villages]),
                            ("departments: code", [d.code for d in self.departments]),
                            ("items: item_code", [i.item_code for i in self.items])):
            if dup := _duplicates(codes):
                raise ValueError(f"{what} {', '.join(dup)} appears more than once")
        departments, townships = {d.code for d in self.departments}, {t.township_id for t in self.townships}
        for item in self.items:
            if item.department_code not in departments:
                raise ValueError(f"item {item.item_code}: department_code {item.department_code!r} is not in departments")
            if unknown := sorted(set(item.offered_in or ()) - townships):
                raise ValueError(f"item {item.item_code}: offered_in names unknown township {', '.join(unknown)}")
            if unknown := sorted(set(item.joint_departments) - departments):
                raise ValueError(f"item {item.item_code}: joint_departments names {', '.join(unknown)}, not in "
                                 "departments")
        return self

    def township(self, township_id: str) -> Township | None:
        return next((t for t in self.townships if t.township_id == township_id), None)

    def digest(self) -> str:
        """Fingerprint of everything the file says, to refuse a changed file under an unchanged version."""
        body = json.dumps(self.model_dump(mode="json", exclude={"materials_library"}), ensure_ascii=False,
                          sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()


def _duplicates(values: Any) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def parse_catalogue(raw: Any, *, source: str = "catalogue") -> CatalogueFile:
    """The catalogue from parsed YAML, or CatalogueError naming the item (by code) and field at fault."""
    return data_files.parse(raw, CatalogueFile, source=source, what="service catalogue",
                            entries=("items", "item_code", "item"), error=CatalogueError)


def load_catalogue(path: Path | str = DEFAULT_FILE) -> CatalogueFile:
    """Reads and checks the catalogue file; CatalogueError when it is missing, not YAML or not valid."""
    path = Path(path)
    return parse_catalogue(data_files.read_yaml(path, what="service catalogue", error=CatalogueError),
                           source=str(path))


if __name__ == "__main__":  # county IT checks an edited file: python -m services.intake.catalogue_file [FILE]
    try:
        checked = load_catalogue(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FILE)
    except CatalogueError as exc:
        sys.exit(str(exc))
    sys.stdout.write(f"catalogue {checked.version}: {len(checked.townships)} townships, "
                     f"{len(checked.departments)} departments, {len(checked.items)} items\n")
