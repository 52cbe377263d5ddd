"""The application's rules, without I/O: notice, supply, acceptance, tolerated materials, refusal, hand-over."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contracts.envelope import Actor, Envelope, NewEvent, new_event_id
from contracts.errors import DomainError
from contracts.events import (
    ApplicationReceived,
    CaseSubmitted,
    MaterialsRequested,
    MaterialsSupplied,
    ToleratedMaterialDue,
)
from contracts.workdays import default_calendar
from services.intake import application as app_rules
from services.intake import ratings
from services.intake.application import Arrival, Faulty
from services.intake.items import Item, Material

pytestmark = pytest.mark.unit

CAL = default_calendar()
MONDAY = datetime(2026, 11, 23, 2, tzinfo=UTC)  # 10:00 in Shanghai, a working day
ITEM = Item(item_code="SB-002", name="城乡居民养老保险待遇申领", kind="promised", department_code="social_security",
            promised_limit_days=10, legal_limit_days=20, catalogue_version="2026.11",
            materials=(Material("id_card", "居民身份证", True, "原件"), Material("hukou", "户口簿", True),
                       Material("bank_card", "本人银行卡或存折", True), Material("photo", "近期免冠照片", False)))
# The same item after the county added a requirement.
ITEM_V2 = replace(ITEM, catalogue_version="2026.12",
                  materials=(*ITEM.materials, Material("income_proof", "收入证明", True, "村委会盖章")))


def arrival(*provided: str, channel="window", agent=None, village=None, faulty=()) -> Arrival:
    return Arrival(township_id="qingshui", channel=channel, village_id=village, agent_id=agent,
                   first_contact_staff_id=None if agent else "qs-general_window-01", applicant_name="张三",
                   applicant_id_masked="1101**********002X", provided=provided, faulty=faulty)


def stamp(events: list[NewEvent], *, case_id=None, first_version=1, at=MONDAY) -> list[Envelope]:
    """Envelopes as the event store would make them, so the rules can fold their own output."""
    case_id = case_id or new_event_id()
    return [new.type(event_type=new.type.model_fields["event_type"].default, event_id=new_event_id(),
                     schema_version=new.type.SCHEMA_VERSION, occurred_at=at, source="intake", case_id=case_id,
                     stream_version=first_version + i, township_id="qingshui", actor=Actor(kind="staff", id="s"),
                     correlation_id=case_id, payload=new.payload) for i, new in enumerate(events)]


def start(*provided: str, **kw) -> tuple[app_rules.Application, list[Envelope]]:
    events = stamp(app_rules.decide_arrival(arrival(*provided, **kw), item=ITEM, case_no="QS-1", now=MONDAY,
                                            calendar=CAL))
    return app_rules.fold(events), events


def then(app: app_rules.Application, history: list[Envelope], new: list[NewEvent], *, at=MONDAY):
    events = stamp(new, case_id=history[0].case_id, first_version=len(history) + 1, at=at)
    for event in events:
        app = app_rules.evolve(app, event)
    return app, history + events


def test_complete_materials_are_accepted_at_once_with_tolerated_ones_owed():
    app, events = start("id_card", "hukou", "bank_card")
    assert [type(e) for e in events] == [CaseSubmitted, ToleratedMaterialDue]
    assert app.status == "submitted" and [o.code for o in app.tolerated_owed] == ["photo"]
    assert events[0].payload.promised_deadline == CAL.deadline_for(MONDAY, 10)
    assert app.tolerated_due == CAL.deadline_for(MONDAY, ITEM.tolerated_due_days)


def test_the_notice_lists_every_missing_and_faulty_essential_at_once():
    app, [notice] = start("id_card", faulty=(Faulty("id_card", "已过有效期"),))
    assert isinstance(notice, MaterialsRequested) and notice.payload.notice_no == 1
    assert [(m.code, m.problem) for m in notice.payload.materials] == [
        ("id_card", "faulty"), ("hukou", "missing"), ("bank_card", "missing")]
    assert notice.payload.materials[0].note == "已过有效期" and not notice.payload.second_notice
    assert app.status == "materials_requested" and app.listed == {"id_card", "hukou", "bank_card"}


def test_supplying_everything_on_the_notice_accepts_from_that_day():
    app, history = start("id_card")
    later = MONDAY + timedelta(days=2)
    app, history = then(app, history, app_rules.decide_supply(
        app, item=ITEM, previous=ITEM, supplied=("hukou", "bank_card"), faulty=(), additional=(), now=later,
        calendar=CAL), at=later)
    assert [type(e) for e in history[1:]] == [MaterialsSupplied, CaseSubmitted, ToleratedMaterialDue]
    accepted = history[2].payload
    assert accepted.notices_given == 1 and accepted.received_at == MONDAY
    assert accepted.promised_deadline == CAL.deadline_for(later, 10)


def test_what_was_handed_in_before_the_notice_counts_at_acceptance():
    app, history = start("id_card", "hukou", "photo", faulty=(Faulty("photo", "非近期照片"),))
    assert history[0].payload.materials_in_hand == ["hukou", "id_card"]  # the faulty photo is owed again
    app, history = then(app, history, app_rules.decide_supply(
        app, item=ITEM, previous=ITEM, supplied=("bank_card",), faulty=(), additional=(), now=MONDAY, calendar=CAL))
    accepted = next(e for e in history if isinstance(e, CaseSubmitted)).payload
    assert accepted.materials_provided == ["bank_card", "hukou", "id_card"]
    assert accepted.materials_tolerated_missing == ["photo"]


def test_a_partial_supply_leaves_the_rest_owed_without_a_new_notice():
    app, history = start()
    app, history = then(app, history, app_rules.decide_supply(
        app, item=ITEM, previous=ITEM, supplied=("id_card",), faulty=(), additional=(), now=MONDAY, calendar=CAL))
    assert [type(e) for e in history[1:]] == [MaterialsSupplied]
    assert history[-1].payload.still_owed == ["hukou", "bank_card"] and not history[-1].payload.complete
    assert app.status == "materials_requested" and app.notices == 1


def test_asking_for_what_the_notice_did_not_list_is_refused():
    app, _ = start("id_card", "hukou")
    with pytest.raises(app_rules.NoticePiecemeal):
        app_rules.decide_supply(app, item=ITEM, previous=ITEM, supplied=("bank_card",), faulty=(),
                                additional=("photo",), now=MONDAY, calendar=CAL)
    with pytest.raises(app_rules.NoticePiecemeal):  # id_card was fine the first time: calling it faulty now is piecemeal
        app_rules.decide_supply(app, item=ITEM, previous=ITEM, supplied=("id_card", "bank_card"),
                                faulty=(Faulty("id_card", "复印件不清"),), additional=(), now=MONDAY, calendar=CAL)


def test_changed_requirements_give_a_flagged_second_notice():
    app, history = start("id_card", "hukou")
    app, history = then(app, history, app_rules.decide_supply(
        app, item=ITEM_V2, previous=ITEM, supplied=("bank_card",), faulty=(), additional=(), now=MONDAY, calendar=CAL))
    supplied, second = history[1:]
    assert isinstance(supplied, MaterialsSupplied) and not supplied.payload.complete
    assert isinstance(second, MaterialsRequested) and second.payload.second_notice
    assert (second.payload.notice_no, second.payload.requirements_changed_from) == (2, "2026.11")
    assert [m.code for m in second.payload.materials] == ["income_proof"]
    assert app.second_notices == 1


def test_a_faulty_replacement_stays_owed_on_the_same_notice():
    app, history = start("id_card", "hukou")
    app, history = then(app, history, app_rules.decide_supply(
        app, item=ITEM, previous=ITEM, supplied=("bank_card",), faulty=(Faulty("bank_card", "非本人账户"),),
        additional=(), now=MONDAY, calendar=CAL))
    assert [type(e) for e in history[1:]] == [MaterialsSupplied]
    assert history[-1].payload.still_owed == ["bank_card"] and app.notices == 1


def test_review_channels_wait_for_review_and_lapse_into_acceptance_after_five_working_days():
    app, [received] = start("id_card", channel="village_point", village="qs-dongfeng", agent="qs-agent-dongcun")
    assert isinstance(received, ApplicationReceived) and app.status == "received"
    assert received.payload.notice_due == CAL.deadline_for(MONDAY, 5)
    assert not app_rules.lapsed(app, received.payload.notice_due)
    late = received.payload.notice_due + timedelta(seconds=1)
    # A review after the period cannot give a notice any more: the law has accepted the case.
    events = app_rules.decide_review(app, item=ITEM, faulty=(), now=late, calendar=CAL)
    accepted = events[0].payload
    assert accepted.deemed_accepted and accepted.promised_deadline == CAL.deadline_for(MONDAY, 10)


def test_review_in_time_gives_the_notice():
    app, _ = start("id_card", channel="online")
    [notice] = app_rules.decide_review(app, item=ITEM, faulty=(Faulty("id_card", "照片页模糊"),), now=MONDAY,
                                       calendar=CAL)
    assert [m.code for m in notice.payload.materials] == ["id_card", "hukou", "bank_card"]


def test_agents_take_only_what_they_may():
    with pytest.raises(app_rules.ItemNotForAgents):
        app_rules.decide_arrival(arrival(channel="village_point", village="v", agent="a"),
                                 item=replace(ITEM, agent_may_take=False), case_no="QS-1", now=MONDAY, calendar=CAL)
    with pytest.raises(app_rules.AgentNeedsVillage):
        app_rules.decide_arrival(arrival(agent="a"), item=ITEM, case_no="QS-1", now=MONDAY, calendar=CAL)
    with pytest.raises(app_rules.ItemNotOfferedHere):
        app_rules.decide_arrival(arrival(), item=replace(ITEM, offered_in=frozenset({"hexi"})), case_no="QS-1",
                                 now=MONDAY, calendar=CAL)


def test_bad_material_codes_are_refused():
    with pytest.raises(app_rules.UnknownMaterial):
        app_rules.decide_arrival(arrival("passport"), item=ITEM, case_no="QS-1", now=MONDAY, calendar=CAL)
    with pytest.raises(app_rules.FaultyNotHandedIn):
        app_rules.decide_arrival(arrival(faulty=(Faulty("hukou", ""),)), item=ITEM, case_no="QS-1", now=MONDAY,
                                 calendar=CAL)


def test_supplying_to_a_case_that_asked_for_nothing_is_refused():
    app, _ = start("id_card", "hukou", "bank_card", "photo")
    with pytest.raises(app_rules.NothingOwed):
        app_rules.decide_supply(app, item=ITEM, previous=None, supplied=("photo",), faulty=(), additional=(),
                                now=MONDAY, calendar=CAL)


def test_tolerated_materials_are_brought_after_acceptance():
    app, history = start("id_card", "hukou", "bank_card")
    with pytest.raises(app_rules.MaterialNotOwed):
        app_rules.decide_supply(app, item=ITEM, previous=None, supplied=("hukou",), faulty=(), additional=(),
                                now=MONDAY, calendar=CAL)
    app, history = then(app, history, app_rules.decide_supply(
        app, item=ITEM, previous=None, supplied=("photo",), faulty=(), additional=(), now=MONDAY, calendar=CAL))
    assert history[-1].payload.complete and history[-1].payload.notice_no is None and app.tolerated_owed == ()


def test_refusal_only_before_acceptance_and_only_once():
    app, history = start("id_card")
    app, history = then(app, history, app_rules.decide_rejection(
        app, reason="不属本乡镇户籍", legal_basis="《行政许可法》第三十二条", proposed_by=None, approved_by="qs-head"))
    refusal = history[-1].payload
    assert (refusal.proposed_by, refusal.approved_by) == ("qs-general_window-01", "qs-head") and app.status == "rejected"
    with pytest.raises(app_rules.CaseAlreadyRejected):
        app_rules.decide_rejection(app, reason="r", legal_basis="b", proposed_by=None, approved_by="qs-head")
    accepted, _ = start("id_card", "hukou", "bank_card")
    with pytest.raises(app_rules.CaseAlreadyAccepted):
        app_rules.decide_rejection(accepted, reason="r", legal_basis="b", proposed_by=None, approved_by="qs-head")


def test_handover_and_delivery_of_an_agent_case():
    app, history = start("id_card", "hukou", "bank_card", channel="village_point", village="qs-dongfeng", agent="ag-1")
    [handover] = app_rules.decide_handover(app, item=ITEM, received_by="qs-general_window-01",
                                           materials=("id_card", "hukou"), now=MONDAY)
    assert (handover.payload.agent_id, handover.payload.received_by) == ("ag-1", "qs-general_window-01")
    with pytest.raises(app_rules.ResultNotReady):
        app_rules.decide_delivery(app, completed=False, delivered_by="ag-1", by_agent=True,
                                  acknowledgement="signature", note="", now=MONDAY)
    with pytest.raises(app_rules.NotCaseAgent):
        app_rules.decide_delivery(app, completed=True, delivered_by="ag-2", by_agent=True,
                                  acknowledgement="signature", note="", now=MONDAY)
    app, history = then(app, history, app_rules.decide_delivery(
        app, completed=True, delivered_by="ag-1", by_agent=True, acknowledgement="fingerprint", note="", now=MONDAY))
    with pytest.raises(app_rules.ResultAlreadyDelivered):
        app_rules.decide_delivery(app, completed=True, delivered_by="qs-1", by_agent=False,
                                  acknowledgement="signature", note="", now=MONDAY)
    window_case, _ = start("id_card")
    with pytest.raises(app_rules.NoAgentOnCase):
        app_rules.decide_handover(window_case, item=ITEM, received_by="s", materials=("id_card",), now=MONDAY)


# Property-based: random sequences of notices, supplies, reviews, refusals, completions and ratings.

CODES = [m.code for m in ITEM_V2.materials] + ["passport"]
codes = st.lists(st.sampled_from(CODES), max_size=4, unique=True)


class ApplicationMachine(RuleBasedStateMachine):
    """Whatever staff try, the history obeys the one-time-notice and no-veto rules."""

    @initialize(provided=codes, channel=st.sampled_from(["window", "online"]))
    def arrive(self, provided, channel):
        self.item, self.previous = ITEM, ITEM
        self.now = MONDAY
        self.completed = self.rated = False
        try:
            self.history = stamp(app_rules.decide_arrival(arrival(*provided, channel=channel), item=ITEM,
                                                          case_no="QS-1", now=MONDAY, calendar=CAL))
        except DomainError:
            self.history = stamp(app_rules.decide_arrival(arrival(channel=channel), item=ITEM, case_no="QS-1",
                                                          now=MONDAY, calendar=CAL))
        self.app = app_rules.fold(self.history)

    def _try(self, decide) -> None:
        try:
            new = decide()
        except DomainError:
            return
        self.app, self.history = then(self.app, self.history, new, at=self.now)
        if any(n.type is MaterialsRequested for n in new):
            self.previous = self.item  # what the commands load by the notice's catalogue version

    @rule(days=st.integers(min_value=0, max_value=9))
    def time_passes(self, days):
        # Enough for a notice period to lapse, not so much that a deadline leaves the known calendar.
        self.now = min(self.now + timedelta(days=days), MONDAY + timedelta(days=12))

    @rule()
    def requirements_change(self):
        self.item = ITEM_V2

    @rule(supplied=codes, faulty=codes, additional=codes)
    def supply(self, supplied, faulty, additional):
        bad = tuple(Faulty(c, "不合格") for c in faulty)
        self._try(lambda: app_rules.decide_supply(
            self.app, item=self.item, previous=self.previous, supplied=tuple(supplied), faulty=bad,
            additional=tuple(additional), now=self.now, calendar=CAL))

    @rule(faulty=codes)
    def review(self, faulty):
        bad = tuple(Faulty(c, "不合格") for c in faulty)
        self._try(lambda: app_rules.decide_review(self.app, item=self.item, faulty=bad, now=self.now, calendar=CAL))

    @rule()
    def lapse(self):
        self._try(lambda: app_rules.decide_lapse(self.app, item=self.item, now=self.now, calendar=CAL))

    @rule()
    def reject(self):
        self._try(lambda: app_rules.decide_rejection(self.app, reason="r", legal_basis="b", proposed_by=None,
                                                     approved_by="qs-head"))

    @rule()
    def complete(self):
        if self.app.status == "submitted":
            self.completed = True

    @rule(score=st.integers(min_value=1, max_value=5))
    def rate(self, score):
        case = ratings.RatedCase(status="completed" if self.completed else "submitted", rated=self.rated)
        try:
            ratings.decide_rating(case, ratings.Rating(score=score), "window_pad")
        except DomainError:
            assert not self.completed or self.rated
            return
        assert self.completed and not self.rated
        self.rated = True

    @invariant()
    def accepted_at_most_once_and_never_after_a_refusal(self):
        kinds = [e.event_type for e in self.history]
        assert kinds.count("CaseSubmitted") <= 1 and kinds.count("CaseRejectedAtIntake") <= 1
        assert not ("CaseSubmitted" in kinds and "CaseRejectedAtIntake" in kinds)

    @invariant()
    def every_later_notice_is_a_flagged_change_of_requirements(self):
        for event in self.history:
            if isinstance(event, MaterialsRequested):
                p = event.payload
                assert p.second_notice == (p.notice_no > 1)
                assert not p.second_notice or p.catalogue_version != p.requirements_changed_from

    @invariant()
    def acceptance_means_every_essential_in_hand_or_deemed(self):
        for event in self.history:
            if isinstance(event, CaseSubmitted) and not event.payload.deemed_accepted:
                item = ITEM_V2 if event.payload.catalogue_version == ITEM_V2.catalogue_version else ITEM
                essential = {m.code for m in item.materials if m.essential}
                assert essential <= set(event.payload.materials_provided)

    @invariant()
    def stream_versions_have_no_gaps(self):
        assert [e.stream_version for e in self.history] == list(range(1, len(self.history) + 1))


TestApplicationMachine = ApplicationMachine.TestCase
TestApplicationMachine.settings = hyp_settings(max_examples=150, stateful_step_count=25, deadline=None)
