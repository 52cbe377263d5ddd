"""The bad-rating loop's events for the ledger's tests: a rating and what followed it, as the services publish them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from contracts.envelope import Actor, Envelope
from contracts.events import CaseRated, CaseRatedPayload
from contracts.rating_events import (
    FollowUpOpened,
    FollowUpOpenedPayload,
    FollowUpRecorded,
    FollowUpRecordedPayload,
    RatingAppealDecided,
    RatingAppealDecidedPayload,
    RatingAppealed,
    RatingAppealedPayload,
    RectificationRecorded,
    RectificationRecordedPayload,
)
from services.audit.tests.inspection_builders import event

RESIDENT = Actor(kind="resident", id="applicant")


@dataclass
class Loop:
    """One case's bad rating and the loop's events about it, in publishing order."""

    township: str
    owner: str
    rated_at: datetime
    score: int = 2
    case_id: UUID = field(default_factory=uuid4)
    events: list[Envelope] = field(default_factory=list)
    routing_version: int = 0

    def __post_init__(self) -> None:
        payload = CaseRatedPayload(score=self.score, comment="材料被要求重复提交", bad_rating=self.score <= 2)
        self.events.append(event(CaseRated, self.case_id, payload, source="intake", version=1, township=self.township,
                                 at=self.rated_at, actor=RESIDENT))

    @property
    def rating(self) -> Envelope:
        return self.events[0]

    @property
    def case_no(self) -> str:
        return f"{self.township.upper()}-{str(self.case_id)[:8]}"

    def _add(self, cls: type[Envelope], payload: object, at: datetime, actor: str) -> Envelope:
        self.routing_version += 1
        made = event(cls, self.case_id, payload, source="routing", version=self.routing_version, township=self.township,
                     at=at, actor=Actor(kind="staff", id=actor))
        self.events.append(made)
        return made

    def opened(self, *, visit_days: int = 1, rectification_days: int = 7) -> Loop:
        self._add(FollowUpOpened, FollowUpOpenedPayload(
            rating_event_id=self.rating.event_id, score=self.score, owner_staff_id=self.owner,
            department_code="social_security", visit_due=self.rated_at + timedelta(days=visit_days),
            rectification_due=self.rated_at + timedelta(days=rectification_days), visit_limit_days=1,
            rectification_limit_days=5, case_no=self.case_no), self.rated_at + timedelta(seconds=1), "routing")
        return self

    def visited(self, *, after: timedelta, holds: bool | None = True, on_time: bool = True) -> Loop:
        self._add(FollowUpRecorded, FollowUpRecordedPayload(
            rating_event_id=self.rating.event_id, reached=holds is not None, means="phone",
            resident_said="反映材料被要求重复提交" if holds is not None else "", complaint_holds=holds,
            staff_id=self.owner, on_time=on_time), self.rated_at + after, self.owner)
        return self

    def rectified(self, *, after: timedelta, on_time: bool = True) -> Loop:
        self._add(RectificationRecorded, RectificationRecordedPayload(
            rating_event_id=self.rating.event_id, measures="已在窗口公示材料清单", evidence=["整改通知〔2026〕3号"],
            answer_to_resident="您反映的问题已整改", staff_id=self.owner, on_time=on_time), self.rated_at + after,
            self.owner)
        return self

    def appealed(self, *, after: timedelta) -> Loop:
        self._add(RatingAppealed, RatingAppealedPayload(
            rating_event_id=self.rating.event_id, ground="about_the_law", reason="对政策标准本身不满",
            appellant_staff_id=self.owner), self.rated_at + after, self.owner)
        return self

    def decided(self, *, after: timedelta, upheld: bool, head: str) -> Loop:
        self._add(RatingAppealDecided, RatingAppealDecidedPayload(
            rating_event_id=self.rating.event_id, upheld=upheld, reason="经核实，差评针对政策标准", decided_by=head,
            appellant_staff_id=self.owner), self.rated_at + after, head)
        return self
