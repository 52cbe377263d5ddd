"""Joint cases complete when every department's share is done; escalated cases wait for the county."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events import CaseCompleted, EscalationAnswered, JointTaskAssigned, JointTaskDone
from contracts.workdays import default_calendar
from services.routing import domain, escalation, joint
from services.routing.tests.builders import case_state
from services.routing.tests.test_deadline_clock import MONDAY_10, apply, running

pytestmark = pytest.mark.unit
CAL = default_calendar()


def joint_case() -> domain.CaseState:
    state = running(kind="joint", department_code="natural_resources", staff_id="qs-natural_resources-01")
    opened = joint.decide_open_shares(state, departments={"agriculture": "qs-agriculture-01", "forestry": None})
    assert [e.type for e in opened] == [JointTaskAssigned] * 3
    return apply(state, opened, MONDAY_10)


def test_shares_open_for_every_department_the_own_one_held_by_the_case_holder():
    state = joint_case()
    assert [(t.department_code, t.staff_id) for t in state.tasks] == [
        ("natural_resources", "qs-natural_resources-01"), ("agriculture", "qs-agriculture-01"), ("forestry", None)]
    with pytest.raises(domain.JointCaseCompletesByShares):
        domain.decide_complete(state, domain.CompleteCase("granted", ""), now=MONDAY_10, calendar=CAL)


def test_the_last_share_completes_the_case_granted_only_if_all_granted():
    state, at = joint_case(), MONDAY_10 + timedelta(days=2)  # Wednesday: two working days after Monday
    [first] = joint.decide_share_done(state, department_code="agriculture", staff_id="qs-agriculture-01",
                                      result="granted", note="一户一宅", now=at, calendar=CAL)
    assert first.type is JointTaskDone and first.payload.working_days == 2
    state = apply(state, [first], at)
    with pytest.raises(joint.ShareAlreadyDone):
        joint.decide_share_done(state, department_code="agriculture", staff_id="x", result="granted", note="",
                                now=at, calendar=CAL)
    with pytest.raises(joint.ShareUnknown):
        joint.decide_share_done(state, department_code="civil_affairs", staff_id="x", result="granted", note="",
                                now=at, calendar=CAL)
    [second] = joint.decide_share_done(state, department_code="forestry", staff_id="qs-forestry-01",
                                       result="refused", note="涉及公益林", now=at, calendar=CAL)
    state = apply(state, [second], at)
    last = joint.decide_share_done(state, department_code="natural_resources", staff_id="qs-natural_resources-01",
                                   result="granted", note="符合规划", now=at, calendar=CAL)
    assert [e.type for e in last] == [JointTaskDone, CaseCompleted]
    completed = last[1].payload
    assert completed.result == "refused" and "forestry：涉及公益林" in completed.note and completed.appeal_rights
    assert apply(state, last, at).status == "completed"


def test_a_refused_share_needs_its_grounds_and_a_plain_case_has_no_shares():
    with pytest.raises(domain.RefusalNoteRequired):
        joint.decide_share_done(joint_case(), department_code="agriculture", staff_id="x", result="refused",
                                note=" ", now=MONDAY_10, calendar=CAL)
    with pytest.raises(joint.NotAJointCase):
        joint.decide_share_done(case_state(), department_code="social_security", staff_id="x", result="granted",
                                note="", now=MONDAY_10, calendar=CAL)


def test_escalated_once_answered_once_and_completed_only_after_the_answer():
    state = running(kind="escalated")
    [sent] = escalation.decide_escalate(state, county_department=" 县自然资源局 ", sent_materials=["b", "a", "a"],
                                        note="初审通过")
    assert (sent.payload.county_department, sent.payload.sent_materials) == ("县自然资源局", ["a", "b"])
    state = apply(state, [sent], MONDAY_10)
    with pytest.raises(escalation.AlreadyEscalated):
        escalation.decide_escalate(state, county_department="县局", sent_materials=["a"], note="再报")
    with pytest.raises(domain.EscalationUnanswered):
        domain.decide_complete(state, domain.CompleteCase("granted", ""), now=MONDAY_10, calendar=CAL)
    [answer] = escalation.decide_answer(state, result="granted", answer="同意", reference="县自然资〔2026〕88号")
    assert answer.type is EscalationAnswered
    state = apply(state, [answer], MONDAY_10)
    with pytest.raises(escalation.EscalationAlreadyAnswered):
        escalation.decide_answer(state, result="granted", answer="同意", reference="")
    assert domain.decide_complete(state, domain.CompleteCase("granted", "县局已批准"), now=MONDAY_10, calendar=CAL)
    with pytest.raises(escalation.NotEscalated):
        escalation.decide_answer(running(), result="granted", answer="同意", reference="")
    with pytest.raises(escalation.EscalationNoteRequired):
        escalation.decide_escalate(running(), county_department="县局", sent_materials=["a"], note="  ")
