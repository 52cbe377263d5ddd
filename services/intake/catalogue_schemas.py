"""Response bodies of the public catalogue endpoints: summaries, the service guide (办事指南), departments,
townships; with the Chinese wording residents read for kinds, levels and categories."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.intake.catalogue_file import CatalogueFile, ItemSpec
from services.kit.fields import text

# A search: Hanzi, ASCII letters and digits, spaces, hyphens; enough for a name, pinyin, initials or a code.
SearchText = text(40, pattern=r"^[\u3400-\u9fffA-Za-z0-9 -]*$")

CATEGORY_NAMES = {"licence": "行政许可", "confirmation": "行政确认", "public_service": "公共服务",
                  "convenience": "便民服务", "other_power": "其他行政权力"}
KIND_NAMES = {"immediate": "即办件", "promised": "承诺件", "joint": "联办件", "escalated": "上报件"}
KIND_EXPLAINED = {
    "immediate": "材料齐全、符合法定形式的，窗口当场办结。",
    "promised": "窗口受理后，在承诺时限内办结并告知结果。",
    "joint": "需多个部门联合办理，由受理窗口牵头，申请人只跑一次。",
    "escalated": "乡镇（街道）受理并初审后报县级部门审批，结果由受理窗口送达。",
}
LEVEL_NAMES = {"village": "村（社区）级", "township": "乡镇（街道）级", "county": "县级"}
LEVEL_EXPLAINED = {
    "village": "可在村（社区）便民服务点办理。",
    "township": "在乡镇（街道）便民服务中心办理。",
    "county": "在乡镇（街道）便民服务中心受理，由县级部门审批。",
}


class ItemSummary(BaseModel):
    item_code: str = Field(examples=["SB-002"])
    name: str = Field(examples=["城乡居民养老保险待遇申领"])
    category: str = Field(examples=["public_service"])
    category_name: str = Field(examples=["公共服务"])
    kind: str = Field(examples=["promised"])
    kind_name: str = Field(examples=["承诺件"])
    handling_level: str = Field(examples=["township"])
    handling_level_name: str = Field(examples=["乡镇（街道）级"])
    department_code: str = Field(examples=["social_security"])
    department_name: str = Field(examples=["社保站"])
    promised_limit_days: int = Field(description="承诺办结时限, working days; 0: on the spot.", examples=[10])
    agent_may_take: bool = Field(description="A village agent (代办员) may take it in.", examples=[True])


class CataloguePage(BaseModel):
    catalogue_version: str = Field(description="Version of the catalogue file in force.", examples=["2026.11"])
    total: int = Field(description="Items matching the query, over all pages.", examples=[3])
    limit: int
    offset: int
    items: list[ItemSummary]


class MaterialGuide(BaseModel):
    code: str = Field(examples=["bank_card"])
    name: str = Field(examples=["本人银行卡或存折"])
    essential: bool = Field(description="Without it the case cannot be accepted; otherwise it may follow (容缺).")
    valid_when: str = Field(description="What counts as valid.", examples=["原件及复印件1份"])
    requirement: str = Field(description="The rule in Chinese.", examples=["必须提供"])


class Place(BaseModel):
    township_id: str = Field(examples=["qingshui"])
    name: str = Field(examples=["清水镇便民服务中心"])


class ServiceGuide(ItemSummary):
    """办事指南: everything a resident needs before coming to the window."""

    kind_explained: str
    handling_level_explained: str
    legal_limit_days: int = Field(description="法定办结时限, working days.", examples=[20])
    time_limit: str = Field(examples=["法定办结时限20个工作日，承诺办结时限10个工作日"])
    fee: str = Field(examples=["不收费"])
    legal_basis: str = Field(description="设定依据.")
    agent_note: str = Field(examples=["可由村（社区）代办员代为受理"])
    tolerated_due_days: int = Field(description="Working days to bring a material accepted as missing (容缺).")
    offered_in: list[Place] = Field(description="Township centres that offer it.")
    materials: list[MaterialGuide]
    catalogue_version: str = Field(description="Catalogue version that first carried this content of the item.",
                                   examples=["2026.11"])


class DepartmentView(BaseModel):
    code: str = Field(examples=["social_security"])
    name: str = Field(examples=["社保站"])
    item_count: int = Field(description="Items of the catalogue this department decides.", examples=[8])


class VillageView(BaseModel):
    village_id: str = Field(examples=["qs-dongfeng"])
    name: str = Field(examples=["东风村"])


class TownshipView(BaseModel):
    township_id: str = Field(examples=["qingshui"])
    name: str = Field(examples=["清水镇便民服务中心"])
    case_prefix: str = Field(examples=["QS"])
    address: str
    office_hours: str
    villages: list[VillageView]


def _days(n: int) -> str:
    return "当场办结" if n == 0 else f"{n}个工作日"


def summary(item: ItemSpec, catalogue: CatalogueFile) -> ItemSummary:
    return ItemSummary(**_summary_fields(item, catalogue))


def _summary_fields(item: ItemSpec, catalogue: CatalogueFile) -> dict:
    departments = {d.code: d.name for d in catalogue.departments}
    return {
        "item_code": item.item_code, "name": item.name, "category": item.category,
        "category_name": CATEGORY_NAMES[item.category], "kind": item.kind, "kind_name": KIND_NAMES[item.kind],
        "handling_level": item.handling_level, "handling_level_name": LEVEL_NAMES[item.handling_level],
        "department_code": item.department_code, "department_name": departments[item.department_code],
        "promised_limit_days": item.promised_limit_days, "agent_may_take": item.agent_may_take,
    }


def guide(item: ItemSpec, catalogue: CatalogueFile, *, item_version: str) -> ServiceGuide:
    places = [Place(township_id=t.township_id, name=t.name) for t in catalogue.townships
              if item.offered_in is None or t.township_id in item.offered_in]
    tolerated = f"可容缺受理，受理后{item.tolerated_due_days}个工作日内补齐"
    return ServiceGuide(
        **_summary_fields(item, catalogue),
        kind_explained=KIND_EXPLAINED[item.kind], handling_level_explained=LEVEL_EXPLAINED[item.handling_level],
        legal_limit_days=item.legal_limit_days,
        time_limit=f"法定办结时限{_days(item.legal_limit_days)}，承诺办结时限{_days(item.promised_limit_days)}",
        fee=item.fee, legal_basis=item.legal_basis,
        agent_note="可由村（社区）代办员代为受理" if item.agent_may_take else "须本人或受委托人到便民服务中心办理",
        tolerated_due_days=item.tolerated_due_days, offered_in=places,
        materials=[MaterialGuide(code=m.code, name=m.name, essential=m.essential, valid_when=m.valid_when,
                                 requirement="必须提供" if m.essential else tolerated) for m in item.materials],
        catalogue_version=item_version,
    )
