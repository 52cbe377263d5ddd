"""Joint cases (联办件): one share per department; the case completes when every share is done.

The item's own department holds the case (and its deadline); every other department named by the
catalogue gets a share with a holder of its own. Each share records how many working days it took
from the case's acceptance, so that the time each department spent shows in the history.
"""

from __future__ import annotations

from datetime import datetime

from contracts.envelope import NewEvent
from contracts.errors import DomainError
from contracts.events import JointTaskAssigned, JointTaskDone, JointTaskDonePayload, JointTaskPayload
from contracts.workdays import WorkingCalendar
from services.routing import deadline_clock as dc
from services.routing.domain import CaseState, CompleteCase, completion, transition


class NotAJointCase(DomainError):
    status, code, message = 409, "NOT_A_JOINT_CASE", "该办件不是联办件，没有部门分项"


class ShareUnknown(DomainError):
    status, code, message = 404, "JOINT_SHARE_UNKNOWN", "该部门不参与此联办件"


class ShareAlreadyDone(DomainError):
    status, code, message = 409, "JOINT_SHARE_ALREADY_DONE", "本部门已提交办理意见"


def decide_open_shares(state: CaseState, *, departments: dict[str, str | None]) -> list[NewEvent]:
    """A share for the item's own department (held by the case's holder) and each other department named."""
    own = {state.department_code: state.staff_id}
    return [NewEvent(JointTaskAssigned, JointTaskPayload(department_code=code, staff_id=staff_id))
            for code, staff_id in {**own, **departments}.items()]


def decide_share_done(state: CaseState, *, department_code: str, staff_id: str, result: str, note: str,
                      now: datetime, calendar: WorkingCalendar) -> list[NewEvent]:
    """One department's opinion; the last one completes the case: granted only if every share granted."""
    transition(state.status, "share")
    if not state.tasks:
        raise NotAJointCase()
    task = next((t for t in state.tasks if t.department_code == department_code), None)
    if task is None:
        raise ShareUnknown(details={"department_code": department_code})
    if task.done:
        raise ShareAlreadyDone()
    cmd = CompleteCase(result=result, note=note)  # type: ignore[arg-type]  # result is checked by the schema
    start = state.clock_start or now
    days = calendar.working_days_between(dc.local_day(start), dc.local_day(now))
    events = [NewEvent(JointTaskDone, JointTaskDonePayload(department_code=department_code, staff_id=staff_id,
                                                           result=cmd.result, note=note.strip(), working_days=days))]
    if cmd.result == "refused" and not note.strip():
        completion(state, cmd, now=now, calendar=calendar, by=staff_id)  # raises REFUSAL_NOTE_REQUIRED
    others = [t for t in state.tasks if t.department_code != department_code]
    if all(t.done for t in others):
        results = [*(t.result for t in others), cmd.result]
        notes = [*(f"{t.department_code}：{t.note}" for t in others if t.note), f"{department_code}：{note.strip()}"]
        final = "granted" if all(r == "granted" for r in results) else "refused"
        events += completion(state, CompleteCase(final, "；".join(notes)[:1000]), now=now, calendar=calendar,  # type: ignore[arg-type]
                             by=staff_id)
    return events
