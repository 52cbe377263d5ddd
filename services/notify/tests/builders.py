"""Small builders of the events notify consumes, as other services would publish them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

from contracts.contacts import CaseContact
from contracts.envelope import Actor, new_event_id
from contracts.events import (
    CaseCompleted,
    CaseCompletedPayload,
    CaseSubmitted,
    CaseSubmittedPayload,
    DeadlineBreached,
    DeadlineBreachedPayload,
)

# 2026-12-07 23:59:59.999999 in Asia/Shanghai
DEADLINE = datetime(2026, 12, 7, 15, 59, 59, 999999, tzinfo=UTC)
# Every case id these builders produced, so tests can tell their cases from other suites' on shared topics.
CASES: set[str] = set()
# The applicant's number of each submitted case, as intake publishes it on the contact topic.
PHONES: dict[UUID, str] = {}


def unique_phone() -> str:
    return f"+86138{random.randrange(10**8):08d}"


def _envelope(cls, *, case_id: UUID, township_id: str, source: str, version: int, payload, actor: Actor):
    CASES.add(str(case_id))
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source=source,
               case_id=case_id, stream_version=version, township_id=township_id, actor=actor,
               correlation_id=case_id, payload=payload)


def submitted(*, case_id: UUID | None = None, township_id: str = "qingshui", phone: str = "+8613800138000",
              **overrides) -> CaseSubmitted:
    fields = dict(
        case_no="QS-20261123-0001", item_code="SB-002", item_name="城乡居民养老保险待遇申领", kind="promised",
        department_code="social_security", channel="window", applicant_name="张三",
        applicant_id_masked="1101**********002X", materials_provided=["id_card", "hukou"],
        promised_limit_days=10, promised_deadline=DEADLINE,
    )
    fields.update(overrides)
    event = _envelope(CaseSubmitted, case_id=case_id or new_event_id(), township_id=township_id, source="intake",
                      version=1, payload=CaseSubmittedPayload(**fields), actor=Actor(kind="staff", id="staff-0001"))
    PHONES[event.case_id] = phone
    return event


def contact_of(event: CaseSubmitted, *, version: int = 1, phone: str | None = None) -> CaseContact:
    return CaseContact(case_id=event.case_id, township_id=event.township_id, version=version,
                       recorded_at=event.occurred_at, applicant_phone=phone or PHONES[event.case_id])


def completed(*, case_id: UUID, township_id: str = "qingshui", result: str = "granted", note: str = "") -> CaseCompleted:
    payload = CaseCompletedPayload(department_code="social_security", result=result, note=note, on_time=True,
                                   promised_deadline=DEADLINE)
    return _envelope(CaseCompleted, case_id=case_id, township_id=township_id, source="routing", version=2,
                     payload=payload, actor=Actor(kind="staff", id="staff-0002"))


def breached(*, case_id: UUID, township_id: str = "qingshui", department_code: str = "social_security",
             late: timedelta = timedelta(days=2, hours=3)) -> DeadlineBreached:
    payload = DeadlineBreachedPayload(department_code=department_code, staff_id=None, promised_deadline=DEADLINE,
                                      detected_at=DEADLINE + late)
    return _envelope(DeadlineBreached, case_id=case_id, township_id=township_id, source="routing", version=2,
                     payload=payload, actor=Actor(kind="system", id="routing"))
