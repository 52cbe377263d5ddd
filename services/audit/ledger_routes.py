"""The accountability ledger over HTTP: inspectors record; inspectors, admins and a township's head read and export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Actor
from contracts.inspection_events import (
    MEASURE_LABELS,
    AccountabilityMeasure,
    AccountabilityRecordedPayload,
    ledger_stream_id,
)
from contracts.workdays import SHANGHAI
from services.audit import access_log, labels, ledger, ledger_store, workbook
from services.audit.deps import AuditRuntime
from services.audit.domain import AuditRecord
from services.audit.ledger_fields import Description, FindingCode
from services.audit.periods import period
from services.audit.timeline_routes import TimelineActor
from services.kit.access import ALL, Grant, permit
from services.kit.errors import error_responses
from services.kit.fields import PG_BIGINT_MAX, Code, StaffId

router = APIRouter(prefix="/api/v1", tags=["audit"])
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=64, pattern=r"^[A-Za-z0-9_.:-]{8,64}$",
    description="Resending with the same key answers the entry the first request made, never a second one.")]
EXPORT_LIMIT = 5000  # rows in one export; narrow the period for more


class AccountabilityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township_id: Code = Field(title="乡镇", examples=["qingshui"])
    case_id: UUID | None = Field(default=None, title="所涉办件", description="The case, if the finding is about one; "
                                 "it must be in the audit log, of this township.")
    finding: FindingCode = Field(title="问题类别", description="The anomaly or finding, by its stable code.",
                                 examples=["overdue_case"])
    measure: AccountabilityMeasure = Field(title="处理方式", examples=["admonition_talk"])
    staff_id: StaffId | None = Field(default=None, title="涉及人员", examples=["qs-social_security-01"])
    description: Description = Field(title="情况说明", examples=["该件超期 3 个工作日，经核实系承办人无故拖延"])
    evidence_event_ids: list[UUID] = Field(default_factory=list, max_length=200, title="证据事件",
                                           description="Event ids in the audit log the finding rests on (at least one).")
    decided_on: date = Field(title="决定日期", description="Beijing date of the decision; not in the future.")


class AccountabilityRecordedView(BaseModel):
    event_id: UUID = Field(title="事件编号")
    case_id: UUID = Field(title="流编号", description="The case, or the township's ledger stream.")
    stream_version: int = Field(title="流版本号")
    replayed: bool = Field(title="重复提交", description="An earlier request with the same Idempotency-Key.")


class LedgerEntry(BaseModel):
    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    recorded_at: datetime = Field(title="登记时间（北京时间）")
    township_id: str = Field(title="乡镇")
    case_id: UUID | None = Field(title="所涉办件", description="None for a finding about no single case.")
    finding: str = Field(title="问题类别")
    measure: AccountabilityMeasure = Field(title="处理方式")
    measure_label: str = Field(title="处理方式名称", examples=["诫勉谈话"])
    staff_id: str | None = Field(title="涉及人员")
    description: str = Field(title="情况说明")
    evidence_event_ids: list[UUID] = Field(title="证据事件")
    decided_on: date = Field(title="决定日期")
    recorded_by: TimelineActor = Field(title="登记人")
    hash: str = Field(title="记录哈希")


class LedgerPage(BaseModel):
    entries: list[LedgerEntry] = Field(title="台账记录", description="Newest first; entries appear once chained.")
    next_before_seq: int | None = Field(title="下一页", description="Pass as before_seq for the next page.")


def _rt(request: Request) -> AuditRuntime:
    return request.app.state.runtime


@router.post("/accountability", status_code=201, response_model=AccountabilityRecordedView,
             summary="Record what followed a finding, against evidence in the log (责任追究台账)",
             responses=error_responses(401, 403, 404, 422, body=True))
async def post_accountability(body: AccountabilityRequest, request: Request,
                              grant: Annotated[Grant, Depends(permit("audit.record_accountability"))],
                              idempotency_key: IdempotencyKey = None) -> AccountabilityRecordedView:
    rt = _rt(request)
    payload = AccountabilityRecordedPayload(
        finding=body.finding, measure=body.measure, staff_id=body.staff_id, description=body.description,
        evidence_event_ids=list(dict.fromkeys(body.evidence_event_ids)), decided_on=body.decided_on)
    entry = ledger.Entry(township_id=body.township_id, case_id=body.case_id, payload=payload)
    me = grant.principal
    done = await ledger.record(rt.pool, entry, actor=Actor(kind=me.role, id=me.sub), now=rt.clock.now(),
                               idempotency_key=idempotency_key,
                               request_hash=hashlib.sha256(body.model_dump_json().encode()).hexdigest())
    return AccountabilityRecordedView(event_id=done.event_id, case_id=done.case_id, stream_version=done.stream_version,
                                      replayed=done.replayed)


def _entry(record: AuditRecord) -> LedgerEntry:
    envelope = json.loads(record.envelope)
    p, actor = envelope["payload"], envelope["actor"]
    return LedgerEntry(
        seq=record.seq, event_id=record.event_id, recorded_at=record.occurred_at.astimezone(SHANGHAI),
        township_id=record.township_id,
        case_id=None if record.case_id == ledger_stream_id(record.township_id) else record.case_id,
        finding=p["finding"], measure=p["measure"], measure_label=MEASURE_LABELS[p["measure"]],
        staff_id=p.get("staff_id"), description=p["description"], evidence_event_ids=p["evidence_event_ids"],
        decided_on=p["decided_on"],
        recorded_by=TimelineActor(kind=actor["kind"], id=actor["id"], label=labels.role_label(actor["kind"])),
        hash=record.hash)


async def _read(request: Request, grant: Grant, *, query: str, township_id: str | None, staff_id: str | None,
                first_day: date | None, last_day: date | None, before_seq: int | None, limit: int) -> list[LedgerEntry]:
    """The entries the caller may see, the read recorded with them: a centre head sees only their township."""
    rt = _rt(request)
    township = township_id if grant.scope == ALL else grant.listing_township(township_id)
    span = period(first_day, last_day)
    async with rt.pool.acquire() as conn, conn.transaction():
        records = await ledger_store.entries(conn, township_id=township, staff_id=staff_id, first_day=span.first_day,
                                             last_day=span.last_day, before_seq=before_seq, limit=limit)
        shown = [_entry(r) for r in records]
        await access_log.record_query(
            conn, viewer=grant.principal, query=query, case_ids=[e.case_id for e in shown if e.case_id],
            result_count=len(shown), township_id=township, now=rt.clock.now(),
            parameters={"township_id": township, "staff_id": staff_id, "from": first_day, "to": last_day,
                        "before_seq": before_seq})
    return shown


Township = Annotated[Code | None, Query(description="A township; a centre head's own by default.")]
Staff = Annotated[StaffId | None, Query(description="Entries about this staff member.")]
FirstDay = Annotated[date | None, Query(alias="from", description="First decision date, Beijing time.")]
LastDay = Annotated[date | None, Query(alias="to", description="Last decision date, included.")]


@router.get("/accountability", response_model=LedgerPage, summary="The accountability ledger, newest first (责任追究台账)",
            responses=error_responses(401, 403, 422))
async def get_accountability(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.list_accountability"))],
    township_id: Township = None, staff_id: Staff = None, first_day: FirstDay = None, last_day: LastDay = None,
    before_seq: Annotated[int | None, Query(ge=1, le=PG_BIGINT_MAX, description="Entries before this seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LedgerPage:
    shown = await _read(request, grant, query="accountability", township_id=township_id, staff_id=staff_id,
                        first_day=first_day, last_day=last_day, before_seq=before_seq, limit=limit)
    return LedgerPage(entries=shown, next_before_seq=shown[-1].seq if len(shown) == limit else None)


EXPORT_COLUMNS: Sequence[workbook.Column] = [workbook.Column(k, h) for k, h in (
    ("seq", "审计序号"), ("recorded_at", "登记时间（北京时间）"), ("township_id", "乡镇"), ("case_id", "所涉办件"),
    ("finding", "问题类别"), ("measure", "处理方式"), ("staff_id", "涉及人员"), ("description", "情况说明"),
    ("evidence", "证据事件"), ("decided_on", "决定日期"), ("recorded_by", "登记人"), ("hash", "记录哈希"))]


@router.get("/accountability/export", summary="The accountability ledger as a spreadsheet (台账导出)",
            responses={**error_responses(401, 403, 422), 200: {"content": {workbook.MEDIA_TYPE: {}},
                                                              "description": "The ledger, newest first."}},
            response_class=Response)
async def export_accountability(
    request: Request, grant: Annotated[Grant, Depends(permit("audit.export_accountability"))],
    township_id: Township = None, staff_id: Staff = None, first_day: FirstDay = None, last_day: LastDay = None,
) -> Response:
    shown = await _read(request, grant, query="accountability_export", township_id=township_id, staff_id=staff_id,
                        first_day=first_day, last_day=last_day, before_seq=None, limit=EXPORT_LIMIT)
    rows = [{"seq": e.seq, "recorded_at": e.recorded_at, "township_id": e.township_id, "case_id": e.case_id or "",
             "finding": e.finding, "measure": e.measure_label, "staff_id": e.staff_id or "",
             "description": e.description, "evidence": e.evidence_event_ids, "decided_on": e.decided_on.isoformat(),
             "recorded_by": e.recorded_by.id, "hash": e.hash} for e in shown]
    # Said in the sheet itself: a reader of the file never sees this answer.
    note = f"仅导出最新{EXPORT_LIMIT}条，请缩小期间后分次导出" if len(rows) == EXPORT_LIMIT else ""
    return workbook.download(title="责任追究台账", exported_by=workbook.exporter(grant.principal),
                             exported_at=_rt(request).clock.now(), columns=EXPORT_COLUMNS, rows=rows,
                             parameters={"township_id": township_id, "staff_id": staff_id, "first_day": first_day,
                                         "last_day": last_day}, note=note)
