from datetime import timedelta

import pytest

from contracts.events import CaseAssigned, CaseFlagged, CaseTransferred
from contracts.workdays import default_calendar
from services.routing import domain
from services.routing.directory import DEPARTMENTS, STAFF, TOWNSHIPS
from services.routing.tests.builders import DEADLINE, case_state, case_submitted, stamped

pytestmark = pytest.mark.unit
CAL = default_calendar()

CIVIL = domain.Department("civil_affairs", "民政办")


def test_transition_table():
    assert domain.transition("new", "assign") == "assigned"
    assert domain.transition("assigned", "complete") == "completed"
    for action in ("transfer", "complete", "breach", "assign", "pause", "extend"):
        with pytest.raises(domain.CaseAlreadyCompleted):
            domain.transition("completed", action)
    with pytest.raises(domain.InvalidTransition):
        domain.transition("assigned", "assign")


def test_submitted_case_is_assigned_to_its_department_and_staff():
    submitted = case_submitted(deadline=DEADLINE)
    state = domain.opened(submitted)
    [event] = domain.decide_assign(state, department=domain.Department("social_security", "社保站"), staff_id="s-1")
    assert event.type is CaseAssigned
    assert (event.payload.department_name, event.payload.staff_id) == ("社保站", "s-1")
    assert event.payload.promised_deadline == DEADLINE
    with pytest.raises(domain.InvalidTransition):
        domain.decide_assign(case_state(), department=CIVIL, staff_id=None)


def test_department_missing_from_directory_goes_to_the_general_window():
    assert domain.assignment_department(None) == domain.GENERAL_WINDOW
    assert domain.assignment_department(CIVIL) == CIVIL


def test_transfer_names_both_departments_and_counts():
    cmd = domain.TransferCase(to_department_code="civil_affairs", reason="  属民政业务 ")
    [transferred] = domain.decide_transfer(case_state(transfer_count=1), cmd, target=CIVIL)
    assert transferred.type is CaseTransferred
    payload = transferred.payload
    assert (payload.from_department_code, payload.to_department_name) == ("social_security", "民政办")
    assert (payload.transfer_count, payload.reason) == (2, "属民政业务")


@pytest.mark.parametrize(("state", "cmd", "target", "error"), [
    (case_state(status="completed"), domain.TransferCase("civil_affairs", "理由"), CIVIL, domain.CaseAlreadyCompleted),
    (case_state(), domain.TransferCase("social_security", "理由"), domain.Department("social_security", "社保站"),
     domain.SameDepartment),
    (case_state(), domain.TransferCase("nowhere", "理由"), None, domain.UnknownDepartment),
    (case_state(), domain.TransferCase("civil_affairs", "   "), CIVIL, domain.TransferReasonRequired),
])
def test_transfer_guards(state, cmd, target, error):
    with pytest.raises(error) as raised:
        domain.decide_transfer(state, cmd, target=target)
    assert raised.value.status in (409, 422) and raised.value.code.isupper()


def test_completion_on_time_is_inclusive_of_the_deadline():
    grant = domain.CompleteCase(result="granted", note="")
    [on_time] = domain.decide_complete(case_state(), grant, now=DEADLINE, calendar=CAL)
    [late] = domain.decide_complete(case_state(), grant, now=DEADLINE + timedelta(microseconds=1), calendar=CAL)
    assert on_time.payload.on_time is True and late.payload.on_time is False
    assert on_time.payload.department_code == "social_security"


def test_refusal_needs_reasons_states_appeal_rights_and_completion_happens_once():
    with pytest.raises(domain.RefusalNoteRequired):
        domain.decide_complete(case_state(), domain.CompleteCase(result="refused", note=" "), now=DEADLINE,
                               calendar=CAL)
    [refused] = domain.decide_complete(case_state(), domain.CompleteCase("refused", "不符合条件"), now=DEADLINE,
                                       calendar=CAL, by="qs-social_security-01")
    assert refused.payload.result == "refused" and "行政复议" in refused.payload.appeal_rights
    assert "行政诉讼" in refused.payload.appeal_rights and refused.payload.staff_id == "qs-social_security-01"
    [granted] = domain.decide_complete(case_state(), domain.CompleteCase("granted", ""), now=DEADLINE, calendar=CAL)
    assert granted.payload.appeal_rights == ""
    with pytest.raises(domain.CaseAlreadyCompleted):
        domain.decide_complete(case_state(status="completed"), domain.CompleteCase("granted", ""), now=DEADLINE,
                               calendar=CAL)


def test_a_case_returning_to_a_department_it_left_is_flagged_once_with_its_path():
    civil, social = CIVIL, domain.Department("social_security", "社保站")
    state = case_state(path=("social_security",))
    [moved] = domain.decide_transfer(state, domain.TransferCase("civil_affairs", "属民政"), target=civil,
                                     staff_id="qs-civil_affairs-01")
    assert moved.payload.to_staff_id == "qs-civil_affairs-01" and not moved.payload.held_by_general_window
    state = domain.fold(state, [stamped(moved, state)])
    assert (state.path, state.staff_id) == (("social_security", "civil_affairs"), "qs-civil_affairs-01")
    back, flag = domain.decide_transfer(state, domain.TransferCase("social_security", "属社保"), target=social)
    assert flag.type is CaseFlagged and flag.payload.reason == "ping_pong"
    assert flag.payload.path == ["social_security", "civil_affairs", "social_security"]
    assert back.payload.held_by_general_window and back.payload.to_staff_id is None
    state = domain.fold(state, [stamped(back, state), stamped(flag, state)])
    assert state.flagged
    again = domain.decide_transfer(state, domain.TransferCase("civil_affairs", "再转"), target=civil, staff_id="x")
    assert [e.type for e in again] == [CaseTransferred]  # flagged once per case


def test_a_third_transfer_is_flagged_even_to_a_new_department():
    state = case_state(path=("a", "b", "social_security"), transfer_count=2)
    events = domain.decide_transfer(state, domain.TransferCase("civil_affairs", "属民政"), target=CIVIL)
    assert [e.type for e in events] == [CaseTransferred, CaseFlagged]
    assert events[1].payload.transfer_count == 3


def test_evolve_follows_routing_events():
    state = domain.opened(case_submitted(deadline=DEADLINE))
    assert state.status == "new"
    assigned = domain.decide_assign(state, department=CIVIL, staff_id="c-1")
    state = domain.fold(state, [stamped(e, state) for e in assigned])
    assert (state.status, state.department_name, state.staff_id) == ("assigned", "民政办", "c-1")
    moved = domain.decide_transfer(state, domain.TransferCase("social_security", "属社保"),
                                   target=domain.Department("social_security", "社保站"), staff_id="s-2")
    state = domain.fold(state, [stamped(e, state) for e in moved])
    assert (state.department_code, state.staff_id, state.transfer_count) == ("social_security", "s-2", 1)
    done = domain.decide_complete(state, domain.CompleteCase("granted", "好"), now=DEADLINE + timedelta(days=1),
                                  calendar=CAL)
    state = domain.fold(state, [stamped(e, state) for e in done])
    assert (state.status, state.result, state.on_time) == ("completed", "granted", False)


def test_overdue_flag():
    late = DEADLINE + timedelta(hours=1)
    assert domain.is_overdue(case_state(), now=late)
    assert not domain.is_overdue(case_state(), now=DEADLINE)
    assert not domain.is_overdue(case_state(status="completed", on_time=True), now=late)
    assert domain.is_overdue(case_state(status="completed", on_time=False), now=DEADLINE)


def test_directory_staffs_every_department_in_every_demo_township():
    units = {(s["township_id"], s["department_code"]) for s in STAFF}
    assert units == {(t, d) for t in TOWNSHIPS for d in DEPARTMENTS}
    assert len({s["staff_id"] for s in STAFF}) == len(STAFF)
    assert domain.GENERAL_WINDOW.code in DEPARTMENTS

