"""A township's month of events for the inspectors' tests: every anomaly once, and figures to count.

All of it happened in October 2026, so by any later day the deadlines have passed. Each scenario has
its own township and staff ids, so tests sharing a database and Kafka never see each other's facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from contracts.envelope import Actor, Envelope, new_event_id
from contracts.events import (
    ApplicationReceived,
    ApplicationReceivedPayload,
    CaseAssigned,
    CaseAssignedPayload,
    CaseCompleted,
    CaseCompletedPayload,
    CaseFlagged,
    CaseFlaggedPayload,
    CaseRated,
    CaseRatedPayload,
    CaseRejectedAtIntake,
    CaseRejectedAtIntakePayload,
    CaseSubmitted,
    CaseSubmittedPayload,
    CaseTransferred,
    CaseTransferredPayload,
    ComplaintRegistered,
    ComplaintRegisteredPayload,
    DeadlineBreached,
    DeadlinePayload,
    MaterialsRequested,
    MaterialsRequestedPayload,
    NoticeMaterial,
    NotificationSent,
    NotificationSentPayload,
)
from contracts.staff_events import (
    RosterDay,
    RosterSet,
    RosterSetPayload,
    StaffAbsenceRecorded,
    StaffAbsenceRecordedPayload,
    StaffRecorded,
    StaffRecordedPayload,
    roster_stream_id,
    staff_stream_id,
)

BASE = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday 12 October 2026, 10:00 in Beijing
DEADLINE = datetime(2026, 10, 16, 15, 59, 59, tzinfo=UTC)
SYSTEM = Actor(kind="system", id="routing")


def event(cls: type[Envelope], stream: UUID, payload: Any, *, source: str, version: int, township: str,
          at: datetime, actor: Actor = SYSTEM) -> Envelope:
    return cls(event_id=new_event_id(), schema_version="1.0", occurred_at=at, source=source, case_id=stream,
               stream_version=version, township_id=township, actor=actor, correlation_id=stream, payload=payload)


def application(case_no: str, staff: str) -> dict[str, Any]:
    return dict(case_no=case_no, item_code="SB-002", item_name="城乡居民养老保险参保登记", kind="promised",
                department_code="social_security", channel="window", applicant_name="张三",
                applicant_id_masked="1101**********002X", first_contact_staff_id=staff)


@dataclass
class Township:
    """One township's October: case ids by letter, the events in publishing order, the staff ids."""

    id: str = field(default_factory=lambda: f"t{uuid4().hex[:10]}")
    cases: dict[str, UUID] = field(default_factory=lambda: {k: uuid4() for k in "ABCD"})
    complaint: UUID = field(default_factory=uuid4)
    events: list[Envelope] = field(default_factory=list)

    @property
    def clerk(self) -> str:
        return f"{self.id}-s1"

    @property
    def second(self) -> str:
        return f"{self.id}-s2"

    def case_no(self, letter: str) -> str:
        return f"{self.id.upper()}-20261012-000{'ABCD'.index(letter) + 1}"

    def add(self, cls: type[Envelope], stream: UUID, payload: Any, *, source: str, version: int, at: datetime,
            actor: Actor = SYSTEM) -> Envelope:
        sent = event(cls, stream, payload, source=source, version=version, township=self.id, at=at, actor=actor)
        self.events.append(sent)
        return sent


def october(t: Township) -> Township:
    """A: on time, told, rated 5. B: open past its deadline, told twice, ping-pong. C: completed late, rated 1,
    never told. D: refused at intake, approved by a clerk. The clerk is absent on a market day, a complaint about
    them is unanswered."""
    clerk, staff = t.clerk, Actor(kind="staff", id=t.clerk)
    a, b, c, d = (t.cases[k] for k in "ABCD")
    t.add(StaffRecorded, staff_stream_id(clerk), StaffRecordedPayload(
        staff_id=clerk, name="王芳", department_code="social_security", role="staff", active=True),
        source="routing", version=1, at=BASE - timedelta(days=30))
    submitted = dict(materials_provided=["id_card"], promised_limit_days=5, promised_deadline=DEADLINE)
    # A
    t.add(CaseSubmitted, a, CaseSubmittedPayload(**application(t.case_no("A"), clerk), **submitted),
          source="intake", version=1, at=BASE, actor=staff)
    t.add(CaseAssigned, a, CaseAssignedPayload(department_code="social_security", department_name="社保站",
                                               staff_id=clerk, promised_deadline=DEADLINE),
          source="routing", version=1, at=BASE + timedelta(minutes=1))
    t.add(CaseTransferred, a, CaseTransferredPayload(
        from_department_code="social_security", to_department_code="civil_affairs", to_department_name="民政办",
        reason="属民政业务", transfer_count=1, to_staff_id=t.second), source="routing", version=2,
        at=BASE + timedelta(minutes=2), actor=staff)
    done_a = t.add(CaseCompleted, a, CaseCompletedPayload(
        department_code="civil_affairs", result="granted", on_time=True, promised_deadline=DEADLINE,
        staff_id=t.second), source="routing", version=3, at=BASE + timedelta(days=1),
        actor=Actor(kind="staff", id=t.second))
    t.add(NotificationSent, a, NotificationSentPayload(
        message_id=uuid4(), recipient_kind="resident", recipient_masked="138****8000",
        template_code="case_completed_granted", trigger_event_id=done_a.event_id, provider="dev",
        provider_message_id="dev-1"), source="notify", version=1, at=BASE + timedelta(days=1, minutes=1))
    t.add(CaseRated, a, CaseRatedPayload(score=5, bad_rating=False), source="intake", version=2,
          at=BASE + timedelta(days=1, hours=1), actor=Actor(kind="resident", id="applicant"))
    # B
    missing = [NoticeMaterial(code="hukou", name="户口簿", problem="missing")]
    t.add(MaterialsRequested, b, MaterialsRequestedPayload(**application(t.case_no("B"), clerk), notice_no=1,
                                                           materials=missing),
          source="intake", version=1, at=BASE - timedelta(days=2), actor=staff)
    t.add(MaterialsRequested, b, MaterialsRequestedPayload(**application(t.case_no("B"), clerk), notice_no=2,
                                                           materials=missing, second_notice=True),
          source="intake", version=2, at=BASE - timedelta(days=1), actor=staff)
    t.add(CaseSubmitted, b, CaseSubmittedPayload(**application(t.case_no("B"), clerk), **submitted, notices_given=2),
          source="intake", version=3, at=BASE, actor=staff)
    t.add(CaseAssigned, b, CaseAssignedPayload(department_code="social_security", department_name="社保站",
                                               staff_id=clerk, promised_deadline=DEADLINE),
          source="routing", version=1, at=BASE + timedelta(minutes=1))
    t.add(CaseFlagged, b, CaseFlaggedPayload(reason="ping_pong", path=["social_security", "civil_affairs",
                                                                       "social_security"], transfer_count=2),
          source="routing", version=2, at=BASE + timedelta(days=2))
    t.add(DeadlineBreached, b, DeadlinePayload(department_code="social_security", staff_id=clerk,
                                               promised_deadline=DEADLINE, detected_at=DEADLINE + timedelta(seconds=5),
                                               case_no=t.case_no("B")),
          source="routing", version=3, at=DEADLINE + timedelta(seconds=5))
    # C
    t.add(CaseSubmitted, c, CaseSubmittedPayload(**application(t.case_no("C"), clerk), **submitted),
          source="intake", version=1, at=BASE, actor=staff)
    t.add(CaseAssigned, c, CaseAssignedPayload(department_code="social_security", department_name="社保站",
                                               staff_id=clerk, promised_deadline=DEADLINE),
          source="routing", version=1, at=BASE + timedelta(minutes=1))
    t.add(CaseCompleted, c, CaseCompletedPayload(department_code="social_security", result="granted", on_time=False,
                                                 promised_deadline=DEADLINE, staff_id=clerk),
          source="routing", version=2, at=DEADLINE + timedelta(days=1), actor=staff)
    t.add(CaseRated, c, CaseRatedPayload(score=1, bad_rating=True, comment="太慢"), source="intake", version=2,
          at=DEADLINE + timedelta(days=1, hours=2), actor=Actor(kind="resident", id="applicant"))
    # D
    t.add(ApplicationReceived, d, ApplicationReceivedPayload(
        **application(t.case_no("D"), clerk), materials_received=["id_card"], notice_due=DEADLINE),
        source="intake", version=1, at=BASE, actor=staff)
    t.add(CaseRejectedAtIntake, d, CaseRejectedAtIntakePayload(reason="不属于受理范围", legal_basis="某条例第三条",
                                                               proposed_by=clerk, approved_by=clerk),
          source="intake", version=2, at=BASE + timedelta(hours=1), actor=staff)
    # The clerk's market day, and a complaint about them
    market_day = date(2026, 10, 13)
    t.add(RosterSet, roster_stream_id(t.id), RosterSetPayload(week_of=date(2026, 10, 12), days=[
        RosterDay(duty_date=market_day, day_kind="market_day", staff_ids=[clerk])]),
        source="routing", version=1, at=BASE - timedelta(days=3), actor=Actor(kind="centre_head", id=f"{t.id}-head"))
    t.add(StaffAbsenceRecorded, staff_stream_id(clerk), StaffAbsenceRecordedPayload(
        staff_id=clerk, duty_date=market_day, kind="not_at_post", noticed_at=BASE + timedelta(days=1, minutes=15)),
        source="routing", version=2, at=BASE + timedelta(days=1, minutes=15))
    t.add(ComplaintRegistered, t.complaint, ComplaintRegisteredPayload(
        complaint_kind="complaint", complaint_no=f"{t.id.upper()}-T-0001", subject="窗口无人", content="上午窗口无人",
        department_code="social_security", about_staff_id=clerk, answer_due=BASE + timedelta(days=5)),
        source="intake", version=1, at=BASE + timedelta(days=1, minutes=30), actor=staff)
    return t
