"""The service catalogue's items as intake's rules see them: pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.events import CaseKind


@dataclass(frozen=True)
class Material:
    code: str
    name: str
    essential: bool
    valid_when: str = ""  # what counts as a valid copy, told to the resident in a notice


@dataclass(frozen=True)
class Item:
    item_code: str
    name: str
    kind: CaseKind
    department_code: str
    promised_limit_days: int
    materials: tuple[Material, ...]
    legal_limit_days: int = 0
    category: str = "public_service"
    handling_level: str = "township"
    fee: str = "不收费"
    agent_may_take: bool = True  # 代办员 may take it in at a village point
    tolerated_due_days: int = 10  # working days to bring a tolerated (容缺) material
    catalogue_version: str = ""
    offered_in: frozenset[str] | None = None  # township ids; None: every township
    joint_departments: tuple[str, ...] = ()  # 联办件: the other departments deciding a share

    def material(self, code: str) -> Material | None:
        return next((m for m in self.materials if m.code == code), None)

    def offered_at(self, township_id: str) -> bool:
        return self.offered_in is None or township_id in self.offered_in
