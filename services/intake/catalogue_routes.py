"""Intake's public catalogue endpoints: what the centres offer (服务事项目录), each item's service guide
(办事指南), the departments and the township centres with their village points. No token: residents
must be able to read them before they come."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from services.intake.catalogue_file import CatalogueFile
from services.intake.catalogue_schemas import (
    CataloguePage,
    DepartmentView,
    SearchText,
    ServiceGuide,
    TownshipView,
    guide,
    summary,
)
from services.intake.catalogue_search import CatalogueIndex, CatalogueQuery
from services.intake.domain import UnknownItem
from services.kit.access import public
from services.kit.errors import error_responses
from services.kit.fields import Code

router = APIRouter(prefix="/api/v1", tags=["catalogue"])

MAX_PAGE = 100
MAX_OFFSET = 10_000


@dataclass
class PublishedCatalogue:
    """The catalogue in force, as loaded at start; `item_versions` from intake's database."""

    index: CatalogueIndex
    item_versions: dict[str, str] = field(default_factory=dict)

    @property
    def file(self) -> CatalogueFile:
        return self.index.catalogue


def _published(request: Request) -> PublishedCatalogue:
    return request.app.state.catalogue


@router.get("/catalogue", response_model=CataloguePage, summary="Search the service catalogue (服务事项目录)",
            responses=error_responses(422), dependencies=[Depends(public("intake.read_catalogue"))])
async def search_catalogue(
    request: Request,
    q: Annotated[SearchText | None, Query(description="Part of the name, its full pinyin, pinyin initials "
                                          "(`ylbx` for 医疗保险) or the item code.")] = None,
    department: Annotated[Code | None, Query(description="Department code.")] = None,
    township_id: Annotated[Code | None, Query(description="Only items offered at this township centre.")] = None,
    handling_level: Annotated[Literal["village", "township", "county"] | None, Query()] = None,
    agent_may_take: Annotated[bool | None, Query(description="Only items a village agent may take in.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CataloguePage:
    published = _published(request)
    found = published.index.search(CatalogueQuery(q=q, department=department, township_id=township_id,
                                                  handling_level=handling_level, agent_may_take=agent_may_take))
    return CataloguePage(catalogue_version=published.file.version, total=len(found), limit=limit, offset=offset,
                         items=[summary(i, published.file) for i in found[offset:offset + limit]])


@router.get("/catalogue/{item_code}", response_model=ServiceGuide, summary="An item's service guide (办事指南)",
            responses=error_responses(404, 422), dependencies=[Depends(public("intake.read_service_guide"))])
async def service_guide(request: Request, item_code: Annotated[Code, Path(examples=["SB-002"])]) -> ServiceGuide:
    published = _published(request)
    item = published.index.get(item_code)
    if item is None:
        raise UnknownItem()
    return guide(item, published.file, item_version=published.item_versions.get(item_code, published.file.version))


@router.get("/departments", response_model=list[DepartmentView], summary="Departments that decide the items",
            responses=error_responses(), dependencies=[Depends(public("intake.list_departments"))])
async def list_departments(request: Request) -> list[DepartmentView]:
    catalogue = _published(request).file
    return [DepartmentView(code=d.code, name=d.name,
                           item_count=sum(i.department_code == d.code for i in catalogue.items))
            for d in catalogue.departments]


@router.get("/townships", response_model=list[TownshipView], summary="Township centres and their village points",
            responses=error_responses(), dependencies=[Depends(public("intake.list_townships"))])
async def list_townships(request: Request) -> list[TownshipView]:
    return [TownshipView.model_validate(t.model_dump()) for t in _published(request).file.townships]
