"""The bad-rating loop's events as routing publishes them (contracts/rating_events.py), for notify's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from contracts.envelope import Actor
from contracts.rating_events import (
    FollowUpOpened,
    FollowUpOpenedPayload,
    RatingAppealDecided,
    RatingAppealDecidedPayload,
    RatingAppealed,
    RatingAppealedPayload,
    RectificationRecorded,
    RectificationRecordedPayload,
)
from services.notify.tests.builders import _envelope

# 2026-11-25 23:59:59.999999 and 2026-12-01 23:59:59.999999 in Asia/Shanghai
VISIT_DUE = datetime(2026, 11, 25, 15, 59, 59, 999999, tzinfo=UTC)
RECTIFICATION_DUE = datetime(2026, 12, 1, 15, 59, 59, 999999, tzinfo=UTC)
_ROUTING = Actor(kind="system", id="routing")


def follow_up_opened(*, case_id: UUID, township_id: str = "qingshui", owner: str | None = "qs-social_security-01",
                     score: int = 2, version: int = 6) -> FollowUpOpened:
    payload = FollowUpOpenedPayload(rating_event_id=uuid4(), score=score, owner_staff_id=owner,
                                    department_code="social_security", visit_due=VISIT_DUE,
                                    rectification_due=RECTIFICATION_DUE, visit_limit_days=1,
                                    rectification_limit_days=5, case_no="QS-20261123-0001")
    return _envelope(FollowUpOpened, case_id=case_id, township_id=township_id, source="routing", version=version,
                     payload=payload, actor=_ROUTING)


def rectified(*, case_id: UUID, township_id: str = "qingshui", rate_again: bool = True,
              answer: str = "已在窗口公示材料清单，不再要求重复提交\n详见www.fake.cn", version: int = 8) -> RectificationRecorded:
    payload = RectificationRecordedPayload(rating_event_id=uuid4(), measures="公示材料清单，批评教育经办人",
                                           evidence=["清水镇整改通知〔2026〕3号"], answer_to_resident=answer,
                                           rate_again=rate_again, staff_id="qs-social_security-01", on_time=True)
    return _envelope(RectificationRecorded, case_id=case_id, township_id=township_id, source="routing",
                     version=version, payload=payload, actor=Actor(kind="staff", id="qs-social_security-01"))


def appealed(*, case_id: UUID, township_id: str = "qingshui", appellant: str = "qs-social_security-01",
             version: int = 7) -> RatingAppealed:
    payload = RatingAppealedPayload(rating_event_id=uuid4(), ground="about_the_law", reason="申请人对低保政策标准本身不满",
                                    appellant_staff_id=appellant)
    return _envelope(RatingAppealed, case_id=case_id, township_id=township_id, source="routing", version=version,
                     payload=payload, actor=Actor(kind="staff", id=appellant))


def appeal_decided(*, case_id: UUID, township_id: str = "qingshui", appellant: str = "qs-social_security-01",
                   upheld: bool = True, version: int = 8) -> RatingAppealDecided:
    payload = RatingAppealDecidedPayload(rating_event_id=uuid4(), upheld=upheld, reason="经核实，差评针对政策标准，非服务问题",
                                         decided_by="qs-head", appellant_staff_id=appellant)
    return _envelope(RatingAppealDecided, case_id=case_id, township_id=township_id, source="routing",
                     version=version, payload=payload, actor=Actor(kind="staff", id="qs-head"))

