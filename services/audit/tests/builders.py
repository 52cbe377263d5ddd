"""Small builders of events and audit records for audit's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from contracts.envelope import Actor, Envelope, new_event_id
from contracts.events import (
    AUDIT_CHAIN_ID,
    AUDIT_TOWNSHIP_ID,
    AuditCheckpointed,
    CaseAssigned,
    CaseAssignedPayload,
    CaseCompleted,
    CaseCompletedPayload,
    CaseRated,
    CaseRatedPayload,
    CaseSubmitted,
    CaseSubmittedPayload,
    CaseTransferred,
    CaseTransferredPayload,
)
from services.audit import checkpoints, domain

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 4, 15, 59, 59, tzinfo=UTC)


def _envelope(cls: type[Envelope], case_id: UUID, *, source: str, version: int, payload, township: str,
              minutes: int, actor: Actor) -> Envelope:
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=T0 + timedelta(minutes=minutes),
               source=source, case_id=case_id, stream_version=version, township_id=township, actor=actor,
               correlation_id=case_id, payload=payload)


def submitted(case_id: UUID, *, version: int = 1, township: str = "qingshui", minutes: int = 0) -> Envelope:
    payload = CaseSubmittedPayload(
        case_no="QS-20261123-0001", item_code="SB-002", item_name="城乡居民养老保险参保登记", kind="promised",
        department_code="social_security", channel="window", applicant_name="张三",
        applicant_id_masked="1101**********002X", materials_provided=["id_card", "hukou"],
        promised_limit_days=5, promised_deadline=DEADLINE)
    return _envelope(CaseSubmitted, case_id, source="intake", version=version, payload=payload, township=township,
                     minutes=minutes, actor=Actor(kind="staff", id="staff-0001"))


def assigned(case_id: UUID, *, version: int, township: str = "qingshui", minutes: int = 1) -> Envelope:
    payload = CaseAssignedPayload(department_code="social_security", department_name="社保站", staff_id="staff-0012",
                                  promised_deadline=DEADLINE)
    return _envelope(CaseAssigned, case_id, source="routing", version=version, payload=payload, township=township,
                     minutes=minutes, actor=Actor(kind="system", id="routing"))


def transferred(case_id: UUID, *, version: int, township: str = "qingshui", minutes: int = 2) -> Envelope:
    payload = CaseTransferredPayload(from_department_code="social_security", to_department_code="civil_affairs",
                                     to_department_name="民政办", reason="属民政业务", transfer_count=1)
    return _envelope(CaseTransferred, case_id, source="routing", version=version, payload=payload, township=township,
                     minutes=minutes, actor=Actor(kind="staff", id="staff-0012"))


def completed(case_id: UUID, *, version: int, township: str = "qingshui", minutes: int = 3) -> Envelope:
    payload = CaseCompletedPayload(department_code="civil_affairs", result="granted", on_time=True,
                                   promised_deadline=DEADLINE)
    return _envelope(CaseCompleted, case_id, source="routing", version=version, payload=payload, township=township,
                     minutes=minutes, actor=Actor(kind="staff", id="staff-0020"))


def rated(case_id: UUID, *, version: int, township: str = "qingshui", minutes: int = 4) -> Envelope:
    payload = CaseRatedPayload(score=5, comment="办事很快", bad_rating=False)
    return _envelope(CaseRated, case_id, source="intake", version=version, payload=payload, township=township,
                     minutes=minutes, actor=Actor(kind="resident", id="applicant"))


def chain_of(events: list[Envelope]) -> list[domain.AuditRecord]:
    """A valid chain over `events`, as the subscriber would have written it."""
    records: list[domain.AuditRecord] = []
    prev = domain.GENESIS_HASH
    for seq, event in enumerate(events, start=1):
        records.append(domain.new_record(event, topic=type(event).TOPIC, seq=seq, prev_hash=prev,
                                         recorded_at=T0 + timedelta(hours=1, seconds=seq), trace_id=None))
        prev = records[-1].hash
    return records


def checkpoint(key, *, number: int, head_seq: int, previous_head_seq: int, head_hash: str | None = None,
               records: int | None = None) -> AuditCheckpointed:
    """A checkpoint signed with `key`, as audit's checkpointer would append it."""
    head = checkpoints.Head(number=number, head_seq=head_seq, head_hash=head_hash or f"{head_seq:064x}",
                            records=records or head_seq, previous_head_seq=previous_head_seq)
    return _envelope(AuditCheckpointed, AUDIT_CHAIN_ID, source="audit", version=number,
                     payload=checkpoints.sign(key, head), township=AUDIT_TOWNSHIP_ID, minutes=number,
                     actor=Actor(kind="system", id="audit"))


def series(key, *head_seqs: int) -> list[AuditCheckpointed]:
    """Checkpoints 1..n over growing heads."""
    return [checkpoint(key, number=n, head_seq=seq, previous_head_seq=prev)
            for n, (prev, seq) in enumerate(zip((0, *head_seqs), head_seqs, strict=False), start=1)]
