"""The read model's folding rules: each fact, and the same facts whatever order the events arrive in."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from contracts.envelope import Actor
from contracts.events import (
    ApplicationFields,
    CaseFlagged,
    CaseFlaggedPayload,
    CaseRejectedAtIntake,
    CaseRejectedAtIntakePayload,
    DeadlineBreached,
    DeadlineExtended,
    DeadlineExtendedPayload,
    DeadlinePayload,
    MaterialsRequested,
    MaterialsRequestedPayload,
    NoticeMaterial,
    NotificationSent,
    NotificationSentPayload,
)
from services.audit import read_model as rm
from services.audit.tests.builders import DEADLINE, T0, _envelope, assigned, chain_of, completed, rated, submitted, transferred

pytestmark = pytest.mark.unit
APPLICATION_FIELDS = set(ApplicationFields.model_fields)


def logged(events):
    return [rm.logged_event(r) for r in chain_of(events)]


def fold_all(events):
    facts = None
    for e in events:
        if rm.touches_case(e):
            facts = rm.fold_case(facts, e)
    return facts


def breached(case_id, *, version, kind="case"):
    payload = DeadlinePayload(department_code="civil_affairs", staff_id="staff-0020", promised_deadline=DEADLINE,
                              detected_at=DEADLINE + timedelta(seconds=5), deadline_kind=kind)
    return _envelope(DeadlineBreached, case_id, source="routing", version=version, payload=payload,
                     township="qingshui", minutes=10, actor=Actor(kind="system", id="routing"))


def extended(case_id, *, version):
    payload = DeadlineExtendedPayload(extension_working_days=5, reason="需现场踏勘", approved_by="qs-head",
                                      promised_deadline=DEADLINE + timedelta(days=7))
    return _envelope(DeadlineExtended, case_id, source="routing", version=version, payload=payload,
                     township="qingshui", minutes=2, actor=Actor(kind="centre_head", id="qs-head"))


def test_facts_do_not_depend_on_arrival_order():
    case_id = uuid4()
    events = logged([submitted(case_id), assigned(case_id, version=1), transferred(case_id, version=2),
                     extended(case_id, version=3), completed(case_id, version=4), rated(case_id, version=2)])
    first = fold_all(events)
    for order in itertools.permutations(events):
        assert fold_all(order) == first
    assert first.case_no == "QS-20261123-0001" and first.township_id == "qingshui"
    assert first.department_code == "civil_affairs" and first.staff_id is None  # the transfer is the latest holder
    assert first.promised_deadline == DEADLINE  # CaseCompleted (version 4) carries the deadline in force
    assert first.completed_at == T0 + timedelta(minutes=3) and first.on_time is True and first.result == "granted"
    assert first.rating_score == 5 and first.transfers == 1 and first.submitted_at == T0


def test_holder_is_the_highest_routing_version_even_when_it_arrives_first():
    case_id = uuid4()
    later, earlier = logged([transferred(case_id, version=2), assigned(case_id, version=1)])
    facts = fold_all([later, earlier])
    assert (facts.department_code, facts.holder_rank) == ("civil_affairs", 2)
    only_intake = fold_all(logged([submitted(case_id)]))
    assert only_intake.department_code == "social_security" and only_intake.promised_deadline == DEADLINE


def test_breach_ping_pong_second_notice_rejection_and_resident_told():
    case_id = uuid4()
    flag = _envelope(CaseFlagged, case_id, source="routing", version=3, township="qingshui", minutes=3,
                     actor=Actor(kind="system", id="routing"),
                     payload=CaseFlaggedPayload(reason="ping_pong", path=["a", "b", "a"], transfer_count=2))
    notice = _envelope(MaterialsRequested, case_id, source="intake", version=2, township="qingshui", minutes=1,
                       actor=Actor(kind="staff", id="staff-0001"), payload=MaterialsRequestedPayload(
                           **submitted(case_id).payload.model_dump(include=APPLICATION_FIELDS),
                           notice_no=2, second_notice=True,
                           materials=[NoticeMaterial(code="hukou", name="户口簿", problem="missing")]))
    refusal = _envelope(CaseRejectedAtIntake, case_id, source="intake", version=3, township="qingshui", minutes=2,
                        actor=Actor(kind="staff", id="staff-0001"),
                        payload=CaseRejectedAtIntakePayload(reason="不符合条件", legal_basis="某条", approved_by="staff-0001"))
    told = _envelope(NotificationSent, case_id, source="notify", version=1, township="qingshui", minutes=5,
                     actor=Actor(kind="system", id="notify"), payload=NotificationSentPayload(
                         message_id=uuid4(), recipient_kind="resident", recipient_masked="138****8000",
                         template_code="case_completed_granted", trigger_event_id=uuid4(), provider="dev",
                         provider_message_id="dev-1"))
    staff_text = replace(rm.logged_event(chain_of([told])[0]), payload={**told.payload.model_dump(mode="json"),
                                                                          "recipient_kind": "staff"})
    events = logged([breached(case_id, version=4), breached(case_id, version=5, kind="complaint"), flag, notice,
                     refusal, told])
    facts = fold_all(events)
    assert facts.breached_event_id == events[0].event_id and facts.breached_staff_id == "staff-0020"
    assert facts.ping_pong_path == ["a", "b", "a"] and facts.ping_pong_event_id == events[2].event_id
    assert (facts.notices, facts.second_notices, facts.second_notice_event_id) == (2, 1, events[3].event_id)
    assert facts.rejection_approved_by == "staff-0001" and facts.rejected_event_id == events[4].event_id
    assert facts.resident_told_event_id == events[5].event_id
    assert not rm.touches_case(events[1]) and not rm.touches_case(staff_text)


def test_the_loop_marks_the_case_and_an_upheld_appeal_removes_only_its_own_rating():
    case_id = uuid4()
    [base] = logged([rated(case_id, version=1)])
    follow_up = replace(base, event_id=uuid4(), event_type=rm.FOLLOW_UP, occurred_at=T0 + timedelta(days=1),
                        payload={"rating_event_id": str(base.event_id)})
    appeal = replace(base, event_id=uuid4(), event_type=rm.RATING_APPEAL,
                     payload={"upheld": True, "rating_event_id": str(base.event_id)})
    for order in ([follow_up, base, appeal], [appeal, follow_up, base]):
        facts = fold_all(order)
        assert facts.followed_up_at == T0 + timedelta(days=1) and facts.rating_excluded is True
    assert fold_all([base, replace(appeal, payload={**appeal.payload, "upheld": False})]).rating_excluded is False
    other = replace(appeal, payload={**appeal.payload, "rating_event_id": str(uuid4())})
    assert fold_all([other, base]).rating_excluded is False
    second = replace(base, event_id=uuid4(), occurred_at=T0 + timedelta(days=9),
                     payload={**base.payload, "score": 5, "rating_round": 2, "follows_rating_id": str(base.event_id)})
    assert fold_all([second, base]).rating_event_id == base.event_id  # the second rating stays beside the first


def test_index_row_names_the_acting_staff_member_and_the_department():
    case_id = uuid4()
    done, transfer = logged([completed(case_id, version=1), transferred(case_id, version=2)])
    row = rm.index_row(done)
    assert (row.staff_id, row.department_code, row.event_type) == ("staff-0020", "civil_affairs", "CaseCompleted")
    assert rm.index_row(transfer).department_code == "civil_affairs"
