"""Pure rules of who is there: presence, duty hours, rosters, absences, the presence board, choosing a holder,
and the staff seed file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from contracts.errors import DomainError
from contracts.staff_events import RosterDay
from contracts.workdays import SHANGHAI, default_calendar
from services.routing import staff
from services.routing.assignment import Candidate, choose_holder, is_able
from services.routing.staff import PresenceChange, Staff
from services.routing.staff_file import DEFAULT_FILE, StaffFileError, load_staff_file, parse_staff_file

pytestmark = pytest.mark.unit
HOURS = staff.parse_duty_hours("08:30-12:00,14:00-17:30")
CALENDAR = default_calendar()
TUESDAY = date(2026, 11, 24)  # an ordinary working day


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


def member(**overrides) -> Staff:
    s = Staff(staff_id="qs-social_security-01", township_id="qingshui", department_code="social_security",
              role="staff", name="黄勇", window_no="4", skills=(), active=True)
    return replace(s, **overrides)


def code_of(exc_info) -> str:
    return exc_info.value.code


# --- duty hours -------------------------------------------------------------------------------------------

def test_duty_hours_find_the_period_and_the_end_of_the_day():
    assert HOURS.period_at(at(TUESDAY, 9)) == (at(TUESDAY, 8, 30), at(TUESDAY, 12))
    assert HOURS.period_at(at(TUESDAY, 12, 30)) is None  # lunch
    assert HOURS.period_at(at(TUESDAY, 17, 30)) is None  # the end is not inside
    assert HOURS.day_end(TUESDAY) == at(TUESDAY, 17, 30)


@pytest.mark.parametrize("text", ["", "8:30", "09:00-08:00", "08:30-12:00,11:00-17:00", "08:30-25:00"])
def test_malformed_duty_hours_are_refused(text):
    with pytest.raises(ValueError):
        staff.parse_duty_hours(text)


# --- presence ---------------------------------------------------------------------------------------------

def test_away_needs_a_reason_and_a_return_time():
    now = at(TUESDAY, 9)
    with pytest.raises(DomainError) as e:
        staff.check_presence(PresenceChange("away", away_until=now + timedelta(hours=1)), now=now, hours=HOURS)
    assert code_of(e) == "AWAY_REASON_REQUIRED" and e.value.status == 422
    with pytest.raises(DomainError) as e:
        staff.check_presence(PresenceChange("away", reason="meeting"), now=now, hours=HOURS)
    assert code_of(e) == "AWAY_REASON_REQUIRED"


def test_a_return_time_in_the_past_is_refused():
    now = at(TUESDAY, 9)
    with pytest.raises(DomainError) as e:
        staff.check_presence(PresenceChange("away", "meeting", now - timedelta(minutes=1)), now=now, hours=HOURS)
    assert (code_of(e), e.value.status) == ("PRESENCE_TIME_PAST", 422)


def test_only_leave_may_last_beyond_the_working_day():
    now = at(TUESDAY, 9)
    tomorrow = at(TUESDAY + timedelta(days=1), 9)
    with pytest.raises(DomainError) as e:
        staff.check_presence(PresenceChange("away", "village_visit", tomorrow), now=now, hours=HOURS)
    assert code_of(e) == "AWAY_BEYOND_WORKING_DAY"
    staff.check_presence(PresenceChange("away", "village_visit", at(TUESDAY, 17)), now=now, hours=HOURS)
    staff.check_presence(PresenceChange("away", "leave", tomorrow), now=now, hours=HOURS)


def test_on_duty_and_off_duty_carry_no_away_fields():
    now = at(TUESDAY, 9)
    staff.check_presence(PresenceChange("on_duty"), now=now, hours=HOURS)
    with pytest.raises(DomainError) as e:
        staff.check_presence(PresenceChange("off_duty", reason="meeting"), now=now, hours=HOURS)
    assert code_of(e) == "PRESENCE_FIELDS_UNEXPECTED"


def test_staff_set_only_their_own_presence_the_centre_head_anyones():
    staff.may_set_presence(role="staff", sub="qs-social_security-01", staff=member())
    staff.may_set_presence(role="centre_head", sub="qs-head", staff=member())
    with pytest.raises(DomainError) as e:
        staff.may_set_presence(role="staff", sub="qs-social_security-02", staff=member())
    assert (code_of(e), e.value.status) == ("NOT_OWN_PRESENCE", 403)


def test_on_a_market_day_the_last_one_at_a_window_may_not_leave_it_except_on_leave():
    me, colleague = member(), member(staff_id="qs-social_security-02")
    away = PresenceChange("away", "village_visit", at(TUESDAY, 11))
    assert staff.leaves_windows_empty(me, away, [me, replace(colleague, presence="away")], day_kind="market_day")
    assert staff.leaves_windows_empty(me, PresenceChange("off_duty"), [me], day_kind="office_day")
    assert not staff.leaves_windows_empty(me, away, [me, colleague], day_kind="market_day")  # the colleague stays
    assert not staff.leaves_windows_empty(me, away, [me], day_kind="ordinary")
    assert not staff.leaves_windows_empty(me, away, [me], day_kind=None)
    assert not staff.leaves_windows_empty(me, PresenceChange("away", "leave", at(TUESDAY, 17)), [me],
                                          day_kind="market_day")
    assert not staff.leaves_windows_empty(replace(me, presence="off_duty"), away, [me], day_kind="market_day")


# --- rosters ------------------------------------------------------------------------------------------------

def test_a_roster_is_for_a_week_from_its_monday_with_staff_of_the_township():
    monday = date(2026, 11, 23)
    day = RosterDay(duty_date=monday, day_kind="ordinary", staff_ids=["qs-social_security-01"])
    staff.check_roster(monday, [day], township_staff=["qs-social_security-01"])
    for week_of, days, known, code in [
        (TUESDAY, [day], ["qs-social_security-01"], "ROSTER_WEEK_NOT_MONDAY"),
        (monday, [day.model_copy(update={"duty_date": monday + timedelta(days=7)})], ["qs-social_security-01"],
         "ROSTER_DAY_OUTSIDE_WEEK"),
        (monday, [day, day], ["qs-social_security-01"], "ROSTER_DAY_OUTSIDE_WEEK"),
        (monday, [day], ["qs-civil_affairs-01"], "ROSTER_STAFF_UNKNOWN"),
    ]:
        with pytest.raises(DomainError) as e:
            staff.check_roster(week_of, days, township_staff=known)
        assert code_of(e) == code


def test_rostered_by_the_roster_or_else_on_working_days_in_duty_hours():
    saturday = date(2026, 11, 28)
    market = RosterDay(duty_date=saturday, day_kind="market_day", staff_ids=["qs-social_security-01"])
    assert staff.is_rostered_now(member(), at(TUESDAY, 9), None, hours=HOURS, calendar=CALENDAR)
    assert not staff.is_rostered_now(member(), at(TUESDAY, 13), None, hours=HOURS, calendar=CALENDAR)
    assert not staff.is_rostered_now(member(), at(saturday, 9), None, hours=HOURS, calendar=CALENDAR)
    assert staff.is_rostered_now(member(), at(saturday, 9), market, hours=HOURS, calendar=CALENDAR)
    assert not staff.is_rostered_now(member(staff_id="qs-social_security-02"), at(saturday, 9), market,
                                     hours=HOURS, calendar=CALENDAR)


# --- absences ------------------------------------------------------------------------------------------------

def _due(people, now, rosters=None):
    return [(a.staff.staff_id, a.kind) for a in staff.absences_due(
        people, now, roster_days=rosters or {}, hours={"qingshui": HOURS}, grace=timedelta(minutes=15),
        calendar=CALENDAR)]


def test_not_at_post_after_the_grace_of_a_duty_period():
    off = member(presence="off_duty")
    assert _due([off], at(TUESDAY, 8, 40)) == []  # within the grace
    assert _due([off], at(TUESDAY, 9)) == [("qs-social_security-01", "not_at_post")]
    assert _due([off], at(TUESDAY, 13)) == []  # lunch
    assert _due([off], at(date(2026, 11, 28), 9)) == []  # Saturday, no roster
    assert _due([member()], at(TUESDAY, 9)) == []  # at the post
    assert _due([replace(off, active=False)], at(TUESDAY, 9)) == []


def test_away_past_the_return_time_is_an_overdue_return():
    away = member(presence="away", away_reason="meeting", away_until=at(TUESDAY, 10))
    assert _due([away], at(TUESDAY, 10, 10)) == []  # within the grace
    assert _due([away], at(TUESDAY, 10, 20)) == [("qs-social_security-01", "overdue_return")]


def test_a_roster_day_decides_who_is_expected():
    off, other = member(presence="off_duty"), member(staff_id="qs-social_security-02", presence="off_duty")
    roster = {"qingshui": RosterDay(duty_date=TUESDAY, day_kind="ordinary", staff_ids=[other.staff_id])}
    assert _due([off, other], at(TUESDAY, 9), roster) == [("qs-social_security-02", "not_at_post")]


# --- presence board --------------------------------------------------------------------------------------------

def test_the_board_shows_status_in_chinese_and_an_office_line_never_a_mobile():
    lines = staff.OfficeLines(enquiry_line="0571-8888 1001", by_department={"social_security": "0571-8877 1002"})
    people = [member(presence="away", away_reason="village_visit", away_note="东风村入户核查", away_until=at(TUESDAY, 16)),
              member(staff_id="qs-head", role="centre_head", department_code="general_window", name="赵建国"),
              member(staff_id="qs-civil_affairs-01", department_code="civil_affairs", presence="off_duty"),
              member(staff_id="qs-gone", active=False)]
    rows = staff.board(people, department_names={"social_security": "社保站", "general_window": "综合窗口"}, lines=lines)
    head, civil, social = rows
    assert (head.name, head.status_label, head.contact_phone) == ("赵建国", "在岗", "0571-8888 1001")
    assert (civil.status_label, civil.department_name, civil.contact_phone) == ("下班", "civil_affairs", "0571-8888 1001")
    assert (social.status_label, social.note, social.back_at, social.contact_phone) == (
        "下村", "东风村入户核查", at(TUESDAY, 16), "0571-8877 1002")
    assert {label for label in staff.AWAY_LABELS.values()} == {"下村", "会议", "请假", "培训", "外出"}


# --- choosing a holder -------------------------------------------------------------------------------------------

def test_fewest_open_cases_then_own_department_then_lowest_id():
    own, skilled, other = "social_security", frozenset({"SB-002"}), frozenset()
    candidates = [Candidate("b", own, other, 2), Candidate("a", own, other, 2), Candidate("z", "medical_insurance",
                                                                                         skilled, 1)]
    assert choose_holder(candidates, department_code=own, item_code="SB-002") == "z"  # fewest first
    tied = [Candidate("b", own, other, 1), Candidate("a", "medical_insurance", skilled, 1)]
    assert choose_holder(tied, department_code=own, item_code="SB-002") == "b"  # own department before skills
    assert choose_holder([Candidate("c", own, other, 0), Candidate("b", own, other, 0)], department_code=own,
                         item_code="SB-002") == "b"


def test_nobody_able_and_present_leaves_the_case_to_the_general_window():
    assert choose_holder([], department_code="social_security", item_code="SB-002") is None
    unable = [Candidate("x", "civil_affairs", frozenset({"MZ-001"}), 0)]
    assert choose_holder(unable, department_code="social_security", item_code="SB-002") is None
    assert is_able(department_code="civil_affairs", skills={"SB-002"}, case_department="social_security",
                   item_code="SB-002")


# --- staff records and the seed file ----------------------------------------------------------------------------

def test_a_record_refers_to_a_known_township_department_and_item_codes():
    record = staff.StaffRecord(staff_id="qs-x", township_id="qingshui", department_code="social_security",
                               role="staff", name="王芳", skills=("YB-001",))
    staff.check_record(record, townships=["qingshui"], departments=["social_security"])
    for bad, code in [(replace(record, township_id="nowhere"), "TOWNSHIP_UNKNOWN"),
                      (replace(record, department_code="post_office"), "DEPARTMENT_UNKNOWN"),
                      (replace(record, skills=("yb001",)), "SKILL_INVALID")]:
        with pytest.raises(DomainError) as e:
            staff.check_record(bad, townships=["qingshui"], departments=["social_security"])
        assert (code_of(e), e.value.status) == (code, 422)


def test_a_phone_change_is_a_contact_change_only():
    record = staff.StaffRecord(staff_id="qs-x", township_id="qingshui", department_code="social_security",
                               role="staff", name="王芳", phone="+8613900010099")
    moved = replace(record, phone="+8613900010098")
    assert record.directory_part() == moved.directory_part() and record.contact_part() != moved.contact_part()
    assert replace(record, active=False).contact_part()[-1] is None  # inactive: a tombstone


def test_the_demo_seed_file_staffs_every_department_and_has_a_head_per_township():
    seed = load_staff_file(DEFAULT_FILE)
    heads = {s.township_id: s.staff_id for s in seed.staff if s.role == "centre_head"}
    assert heads == {"qingshui": "qs-head", "baishi": "bs-head", "hexi": "hx-head"}
    ids = {s.staff_id for s in seed.staff}
    assert {"qs-social_security-01", "qs-general_window-01", "hx-veterans-02"} <= ids
    assert any(s.skills for s in seed.staff) and all(s.phone and s.phone.startswith("+86139000") for s in seed.staff)


def test_a_wrong_seed_file_names_the_staff_member_and_field():
    raw = {"townships": [{"township_id": "qingshui", "enquiry_line": "0571-8888 1001"}],
           "staff": [{"staff_id": "qs-head", "township_id": "qingshui", "department_code": "general_window",
                      "role": "centre_head", "name": "赵建国"},
                     {"staff_id": "qs-x", "township_id": "qingshui", "department_code": "post_office", "name": "王芳",
                      "phone": "12345"}]}
    with pytest.raises(StaffFileError) as e:
        parse_staff_file(raw)
    assert "staff qs-x department_code" in str(e.value) and "staff qs-x phone" in str(e.value)
    raw["staff"] = raw["staff"][1:]
    raw["staff"][0].update(department_code="social_security", phone=None)
    with pytest.raises(StaffFileError, match="no active centre head"):
        parse_staff_file(raw)


# --- village agents (代办员) ------------------------------------------------------------------------------------

def _agent_file(**agent) -> dict:
    row = {"staff_id": "qs-agent-dongfeng", "township_id": "qingshui", "department_code": "village_point",
           "role": "village_agent", "village_id": "qs-dongfeng", "name": "罗秀英", **agent}
    return {"townships": [{"township_id": "qingshui", "enquiry_line": "0571-8888 1001"}],
            "staff": [{"staff_id": "qs-head", "township_id": "qingshui", "department_code": "general_window",
                       "role": "centre_head", "name": "赵建国"}, row]}


def test_a_village_agent_has_a_village_no_department_skills_or_window():
    agent = next(s for s in parse_staff_file(_agent_file()).staff if s.role == "village_agent")
    assert "village_id" not in agent.record().__dict__ and agent.record().department_code == "village_point"
    for wrong, says in [({"department_code": "social_security"}, "department_code village_point"),
                        ({"skills": ["YB-001"]}, "no skills"), ({"window_no": "9"}, "no skills and no window_no"),
                        ({"village_id": None}, "village_id"),
                        ({"role": "staff"}, "only for role village_agent")]:
        with pytest.raises(StaffFileError, match=says):
            parse_staff_file(_agent_file(**wrong))


def test_a_village_agent_is_never_able_for_a_case_nor_on_the_board():
    agent = member(staff_id="qs-agent-dongfeng", role="village_agent", department_code="village_point", window_no=None)
    assert not is_able(department_code=agent.department_code, skills=agent.skills, case_department="general_window",
                       item_code="SB-002")
    lines = staff.OfficeLines(enquiry_line="0571-8888 1001", by_department={})
    assert staff.board([agent, member()], department_names={}, lines=lines) == staff.board([member()],
                                                                                           department_names={}, lines=lines)


def test_the_demo_agents_work_at_village_points_of_the_catalogue():
    catalogue = yaml.safe_load((DEFAULT_FILE.parents[1] / "catalogue" / "demo-county.yaml").read_text())
    villages = {(t["township_id"], v["village_id"]) for t in catalogue["townships"] for v in t.get("villages", ())}
    agents = [s for s in load_staff_file(DEFAULT_FILE).staff if s.role == "village_agent"]
    assert "qs-agent-dongfeng" in {a.staff_id for a in agents}
    assert all((a.township_id, a.village_id) in villages and a.phone for a in agents)
