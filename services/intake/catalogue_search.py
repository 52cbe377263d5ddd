"""Finding items in the loaded catalogue: by name, full pinyin or pinyin initials, department, township,
level and whether a village agent may take them. Pure: the index is built once, when the file is loaded."""

from __future__ import annotations

from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from services.intake.catalogue_file import CatalogueFile, ItemSpec


@dataclass(frozen=True)
class CatalogueQuery:
    q: str | None = None
    department: str | None = None
    township_id: str | None = None
    handling_level: str | None = None
    agent_may_take: bool | None = None


@dataclass(frozen=True)
class _Entry:
    item: ItemSpec
    text: str  # name and code, lower case
    pinyin: str  # 城乡居民 -> chengxiangjumin
    initials: str  # 城乡居民 -> cxjm


def _folded(query: str) -> str:
    return "".join(query.lower().split())


class CatalogueIndex:
    """The catalogue's items with their pinyin computed once; `search` keeps the file's order."""

    def __init__(self, catalogue: CatalogueFile) -> None:
        self.catalogue = catalogue
        self._entries = [
            _Entry(item=i, text=_folded(f"{i.name}{i.item_code}"),
                   pinyin="".join(lazy_pinyin(i.name, errors="ignore")).lower(),
                   initials="".join(lazy_pinyin(i.name, style=Style.FIRST_LETTER, errors="ignore")).lower())
            for i in catalogue.items
        ]
        self._by_code = {i.item_code: i for i in catalogue.items}

    def get(self, item_code: str) -> ItemSpec | None:
        return self._by_code.get(item_code)

    def search(self, query: CatalogueQuery) -> list[ItemSpec]:
        q = _folded(query.q or "")
        return [e.item for e in self._entries if (not q or q in e.text or q in e.pinyin or q in e.initials)
                and _matches(e.item, query)]


def _matches(item: ItemSpec, query: CatalogueQuery) -> bool:
    return ((query.department is None or item.department_code == query.department)
            and (query.township_id is None or item.offered_in is None or query.township_id in item.offered_in)
            and (query.handling_level is None or item.handling_level == query.handling_level)
            and (query.agent_may_take is None or item.agent_may_take == query.agent_may_take))
