"""The timeline fold: labels, Shanghai times, the deadline state at each event, the case at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts.envelope import Actor
from contracts.events import (
    EVENT_TYPES,
    ClockPaused,
    ClockPausedPayload,
    ClockResumed,
    ClockResumedPayload,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineExtendedPayload,
    DeadlinePayload,
    DeadlineWarning,
    MaterialsRequested,
    MaterialsRequestedPayload,
    NoticeMaterial,
    event_type_name,
)
from services.audit import labels
from services.audit.tests.builders import DEADLINE, T0, _envelope, assigned, chain_of, completed, rated, submitted
from services.audit.timeline import timeline

CASE = uuid4()
HEAD = Actor(kind="centre_head", id="qs-head")
LATER = DEADLINE + timedelta(days=3)


def _routing(cls, payload, *, version: int, minutes: int, actor: Actor = HEAD):
    return _envelope(cls, CASE, source="routing", version=version, payload=payload, township="qingshui",
                     minutes=minutes, actor=actor)


def _warning(cls, *, version: int, minutes: int, kind: str = "case"):
    payload = DeadlinePayload(department_code="social_security", promised_deadline=DEADLINE, detected_at=T0,
                              deadline_kind=kind)
    return _routing(cls, payload, version=version, minutes=minutes, actor=Actor(kind="system", id="routing"))


def test_every_event_type_has_a_chinese_label_and_every_actor_kind_a_role_label():
    names = {event_type_name(cls) for cls in EVENT_TYPES}
    assert names - labels.EVENT_LABELS.keys() == set()
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in labels.EVENT_LABELS[n]) for n in names)
    assert set(Actor.model_fields["kind"].annotation.__args__) <= labels.ROLE_LABELS.keys()


def test_summary_of_a_payload_that_does_not_fit_is_the_label():
    assert labels.summary("CaseTransferred", {"to_department_name": "民政办", "reason": "属民政业务"}) == \
        "转办至民政办（理由：属民政业务）"
    assert labels.summary("CaseTransferred", {}) == "转办"


def test_entries_carry_label_actor_shanghai_time_and_summary():
    result = timeline(chain_of([submitted(CASE), assigned(CASE, version=1)]))
    first, second = result.entries
    assert (first.label, first.actor_label, first.actor_id) == ("受理登记", "窗口工作人员", "staff-0001")
    assert first.occurred_at.isoformat() == "2026-11-23T10:00:00+08:00"
    assert first.occurred_at_utc == T0
    assert first.summary == "城乡居民养老保险参保登记，申请人张三，承诺5个工作日"
    assert second.summary == "分派至社保站，承办人staff-0012" and second.deadline == DEADLINE
    assert (result.case.status, result.case.holder, result.case.department_code) == ("assigned", "staff-0012",
                                                                                      "social_security")


def test_deadline_state_follows_the_clock():
    events = [
        submitted(CASE), assigned(CASE, version=1),
        _warning(DeadlineWarning, version=2, minutes=10),
        _routing(ClockPaused, ClockPausedPayload(reason="inspection", note="现场核查"), version=3, minutes=20),
        _routing(ClockResumed, ClockResumedPayload(paused_working_days=2, promised_deadline=LATER), version=4,
                 minutes=30),
        _warning(DeadlineBreached, version=5, minutes=40),
        _routing(DeadlineExtended, DeadlineExtendedPayload(extension_working_days=5, reason="需专家论证",
                                                           approved_by="qs-head", promised_deadline=LATER),
                 version=6, minutes=50),
        completed(CASE, version=7, minutes=60),
    ]
    result = timeline(chain_of(events))
    assert [e.deadline_state for e in result.entries] == [
        "green", "green", "yellow", "paused", "green", "red", "green", "completed_on_time"]
    assert result.entries[4].deadline == LATER
    assert result.entries[3].summary == "因现场核查暂停计时（现场核查）"


def test_an_event_after_the_deadline_is_red_without_a_breach_event():
    late = assigned(CASE, version=2, minutes=int((DEADLINE - T0).total_seconds() // 60) + 60)
    result = timeline(chain_of([submitted(CASE), assigned(CASE, version=1), late]))
    assert [e.deadline_state for e in result.entries] == ["green", "green", "red"]


def test_warnings_of_other_deadlines_leave_the_case_green():
    result = timeline(chain_of([submitted(CASE), assigned(CASE, version=1),
                                _warning(DeadlineWarning, version=2, minutes=5, kind="tolerated_material")]))
    assert result.entries[-1].deadline_state == "green"


def test_case_as_it_stood_at_an_instant():
    notice = MaterialsRequested(**{**submitted(CASE).model_dump(), "event_type": "MaterialsRequested",
                                   "payload": MaterialsRequestedPayload(
                                       **{k: v for k, v in submitted(CASE).payload.model_dump().items()
                                          if k in MaterialsRequestedPayload.model_fields},
                                       notice_no=1, materials=[NoticeMaterial(code="hukou", name="户口簿",
                                                                              problem="missing")])})
    events = [notice, submitted(CASE, version=2, minutes=1), assigned(CASE, version=1, minutes=2),
              completed(CASE, version=2, minutes=3), rated(CASE, version=3, minutes=4)]
    records = chain_of(events)
    before = timeline(records, as_of=T0 + timedelta(seconds=30)).case
    assert (before.status, before.materials_owed, [n.materials for n in before.notices]) == (
        "awaiting_materials", ("hukou",), [["户口簿"]])
    middle = timeline(records, as_of=T0 + timedelta(minutes=2, seconds=30))
    assert (middle.case.status, middle.case.holder, middle.case.rating) == ("assigned", "staff-0012", None)
    assert len(middle.entries) == 3 and middle.case.status_label == "办理中"
    after = timeline(records).case
    assert (after.status, after.department_code, after.result, after.rating) == ("completed", "civil_affairs",
                                                                                 "granted", 5)
    assert timeline(records, as_of=T0 - timedelta(days=1)).case.status == "unknown"


def test_times_are_given_for_utc_storage():
    [entry] = timeline(chain_of([submitted(CASE)])).entries
    assert entry.occurred_at_utc.tzinfo == UTC and entry.occurred_at.utcoffset() == timedelta(hours=8)
    assert entry.occurred_at == datetime(2026, 11, 23, 10, 0, tzinfo=entry.occurred_at.tzinfo)
