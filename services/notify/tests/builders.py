"""Small builders of the events notify consumes, as other services would publish them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

from contracts.contacts import CaseContact, StaffContact
from contracts.envelope import Actor, new_event_id
from contracts.events import (
    CaseAssigned,
    CaseAssignedPayload,
    CaseCompleted,
    CaseCompletedPayload,
    CaseFlagged,
    CaseFlaggedPayload,
    CaseRated,
    CaseRatedPayload,
    CaseSubmitted,
    CaseSubmittedPayload,
    CaseTransferred,
    CaseTransferredPayload,
    ClockPaused,
    ClockPausedPayload,
    ClockResumed,
    ClockResumedPayload,
    ComplaintRegistered,
    ComplaintRegisteredPayload,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineExtendedPayload,
    DeadlinePayload,
    DeadlineRecalculated,
    DeadlineRecalculatedPayload,
    DeadlineWarning,
    MaterialsRequested,
    MaterialsRequestedPayload,
    NoticeMaterial,
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


def contact_of(event: CaseSubmitted | MaterialsRequested, *, version: int = 1, phone: str | None = None) -> CaseContact:
    return CaseContact(case_id=event.case_id, township_id=event.township_id, version=version,
                       recorded_at=event.occurred_at, applicant_phone=phone or PHONES[event.case_id])


def completed(*, case_id: UUID, township_id: str = "qingshui", result: str = "granted", note: str = "") -> CaseCompleted:
    payload = CaseCompletedPayload(department_code="social_security", result=result, note=note, on_time=True,
                                   promised_deadline=DEADLINE)
    return _envelope(CaseCompleted, case_id=case_id, township_id=township_id, source="routing", version=2,
                     payload=payload, actor=Actor(kind="staff", id="staff-0002"))


def _deadline(*, department_code: str, staff_id: str | None, late: timedelta, kind: str, case_no: str,
              subject: str) -> DeadlinePayload:
    return DeadlinePayload(department_code=department_code, staff_id=staff_id, promised_deadline=DEADLINE,
                           detected_at=DEADLINE + late, deadline_kind=kind, deadline_key=kind, case_no=case_no,
                           subject=subject)


def breached(*, case_id: UUID, township_id: str = "qingshui", department_code: str = "social_security",
             staff_id: str | None = None, late: timedelta = timedelta(days=2, hours=3), kind: str = "case",
             case_no: str = "QS-20261123-0001", subject: str = "城乡居民养老保险待遇申领") -> DeadlineBreached:
    payload = _deadline(department_code=department_code, staff_id=staff_id, late=late, kind=kind, case_no=case_no,
                        subject=subject)
    return _envelope(DeadlineBreached, case_id=case_id, township_id=township_id, source="routing", version=2,
                     payload=payload, actor=Actor(kind="system", id="routing"))


def warning(*, case_id: UUID, township_id: str = "qingshui", department_code: str = "social_security",
            staff_id: str | None = None, kind: str = "case", case_no: str = "QS-20261123-0001",
            subject: str = "城乡居民养老保险待遇申领") -> DeadlineWarning:
    payload = _deadline(department_code=department_code, staff_id=staff_id, late=-timedelta(days=1), kind=kind,
                        case_no=case_no, subject=subject)
    return _envelope(DeadlineWarning, case_id=case_id, township_id=township_id, source="routing", version=2,
                     payload=payload, actor=Actor(kind="system", id="routing"))


def flagged(*, case_id: UUID, township_id: str = "qingshui",
            path: tuple[str, ...] = ("medical_insurance", "social_security", "medical_insurance")) -> CaseFlagged:
    payload = CaseFlaggedPayload(reason="ping_pong", path=list(path), transfer_count=len(path) - 1)
    return _envelope(CaseFlagged, case_id=case_id, township_id=township_id, source="routing", version=4,
                     payload=payload, actor=Actor(kind="system", id="routing"))


def extended(*, case_id: UUID, township_id: str = "qingshui", days: int = 10,
             reason: str = "需现场踏勘，二十日内不能作出决定", provisional: bool = False) -> DeadlineExtended:
    payload = DeadlineExtendedPayload(extension_working_days=days, reason=reason, approved_by="qs-head",
                                      promised_deadline=DEADLINE + timedelta(days=14), deadline_provisional=provisional)
    return _envelope(DeadlineExtended, case_id=case_id, township_id=township_id, source="routing", version=3,
                     payload=payload, actor=Actor(kind="staff", id="qs-head"))


def recalculated(*, case_id: UUID, township_id: str = "qingshui", moved: timedelta = timedelta(days=3)
                 ) -> DeadlineRecalculated:
    payload = DeadlineRecalculatedPayload(previous_deadline=DEADLINE, promised_deadline=DEADLINE + moved,
                                          deadline_provisional=False, calendar_years=[2027])
    return _envelope(DeadlineRecalculated, case_id=case_id, township_id=township_id, source="routing", version=3,
                     payload=payload, actor=Actor(kind="system", id="routing"))


def paused(*, case_id: UUID, reason: str = "hearing", note: str = "申请人申请听证，定于12月3日举行") -> ClockPaused:
    return _envelope(ClockPaused, case_id=case_id, township_id="qingshui", source="routing", version=3,
                     payload=ClockPausedPayload(reason=reason, note=note), actor=Actor(kind="staff", id="staff-0002"))


def resumed(*, case_id: UUID, days: int = 2) -> ClockResumed:
    payload = ClockResumedPayload(paused_working_days=days, promised_deadline=DEADLINE + timedelta(days=days))
    return _envelope(ClockResumed, case_id=case_id, township_id="qingshui", source="routing", version=4,
                     payload=payload, actor=Actor(kind="staff", id="staff-0002"))


def staff_contact(staff_id: str, *, township_id: str = "qingshui", role: str = "staff", name: str = "王芳",
                  department_code: str = "social_security", phone: str | None = None,
                  version: int = 1) -> StaffContact:
    return StaffContact(staff_id=staff_id, township_id=township_id, department_code=department_code, role=role,
                        name=name, version=version, recorded_at=datetime.now(UTC),
                        phone=phone or f"+86139{random.randrange(10**8):08d}")


# --- the events of the messages in docs/adr/0029-sms-templates.md ---------------------------------------

def materials_requested(*, case_id: UUID | None = None, township_id: str = "qingshui",
                        phone: str = "+8613800138000", names: tuple[str, ...] = ("户口簿", "本人银行卡或存折"),
                        **overrides) -> MaterialsRequested:
    fields = dict(
        case_no="QS-20261123-0002", item_code="SB-002", item_name="城乡居民养老保险待遇申领", kind="promised",
        department_code="social_security", channel="window", applicant_name="张三",
        applicant_id_masked="1101**********002X", notice_no=1,
        materials=[NoticeMaterial(code=f"m{i}", name=n, problem="missing") for i, n in enumerate(names)])
    fields.update(overrides)
    event = _envelope(MaterialsRequested, case_id=case_id or new_event_id(), township_id=township_id, source="intake",
                      version=1, payload=MaterialsRequestedPayload(**fields), actor=Actor(kind="staff", id="staff-0001"))
    PHONES[event.case_id] = phone
    return event


def assigned(*, case_id: UUID, township_id: str = "qingshui", staff_id: str | None = "qs-social_security-01",
             version: int = 2) -> CaseAssigned:
    payload = CaseAssignedPayload(department_code="social_security", department_name="社保站", staff_id=staff_id,
                                  promised_deadline=DEADLINE, held_by_general_window=staff_id is None)
    return _envelope(CaseAssigned, case_id=case_id, township_id=township_id, source="routing", version=version,
                     payload=payload, actor=Actor(kind="system", id="routing"))


def transferred(*, case_id: UUID, township_id: str = "qingshui", to_staff_id: str | None = "qs-social_security-02",
                version: int = 3) -> CaseTransferred:
    payload = CaseTransferredPayload(from_department_code="medical_insurance", to_department_code="social_security",
                                     to_department_name="社保站", reason="属社保业务", transfer_count=1,
                                     to_staff_id=to_staff_id)
    return _envelope(CaseTransferred, case_id=case_id, township_id=township_id, source="routing", version=version,
                     payload=payload, actor=Actor(kind="staff", id="qs-medical_insurance-01"))


def rated(*, case_id: UUID, township_id: str = "qingshui", score: int = 1, comment: str = "等了两个小时",
          version: int = 5) -> CaseRated:
    payload = CaseRatedPayload(score=score, comment=comment, bad_rating=score <= 2, channel="sms_link")
    return _envelope(CaseRated, case_id=case_id, township_id=township_id, source="intake", version=version,
                     payload=payload, actor=Actor(kind="system", id="intake"))


def complaint(*, case_id: UUID | None = None, township_id: str = "qingshui", about_staff_id: str | None = None,
              complaint_no: str = "QS-T-20261123-0001") -> ComplaintRegistered:
    payload = ComplaintRegisteredPayload(complaint_kind="complaint", complaint_no=complaint_no,
                                         subject="窗口工作人员不在岗", content="上午十点到医保窗口无人办理",
                                         department_code="medical_insurance", about_staff_id=about_staff_id,
                                         complainant_name="李四", answer_due=DEADLINE)
    return _envelope(ComplaintRegistered, case_id=case_id or new_event_id(), township_id=township_id,
                     source="intake", version=1, payload=payload, actor=Actor(kind="staff", id="qs-general_window-01"))
