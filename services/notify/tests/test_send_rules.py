"""The sending rules on an injected clock: limits, merging, quiet hours, urgent templates."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

from contracts.workdays import SHANGHAI
from services.notify.send_rules import PastCall, Pending, Send, SendRules, Wait, merge_texts, plan
from services.notify.settings import NotifySettings

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)
RULES = SendRules()


def pending(text: str = "【青石镇便民服务中心】张三您好，您的办件已受理。", *, template: str = "case_submitted",
            queued: datetime = NOON - timedelta(minutes=5)) -> Pending:
    return Pending(message_id=uuid4(), template_code=template, text=text, created_at=queued)


def calls(*minutes_ago: float, text: str = "earlier") -> list[PastCall]:
    return [PastCall(NOON - timedelta(minutes=m), f"{text}{i}") for i, m in enumerate(minutes_ago)]


def test_a_number_with_no_recent_sms_is_texted_now():
    message = pending()
    assert plan([message], [], now=NOON, rules=RULES) == [Send((message,), message.text)]


def test_the_minute_limit_waits_for_the_oldest_call_to_leave_the_minute():
    [step] = plan([pending()], calls(0.5, 0.25), now=NOON, rules=RULES)
    assert isinstance(step, Wait) and step.reason == "rate_limit"
    assert step.until == NOON - timedelta(minutes=0.5) + timedelta(minutes=1)


def test_the_hour_and_day_limits_count_rolling_windows():
    hour = RULES.allowed_from(calls(50, 40, 30, 20, 10), "new", now=NOON)
    assert hour == NOON - timedelta(minutes=50) + timedelta(hours=1)
    day = RULES.allowed_from([PastCall(NOON - timedelta(hours=h), f"t{h}") for h in range(23, 13, -1)], "new", now=NOON)
    assert day == NOON - timedelta(hours=23) + timedelta(hours=24)
    # Calls older than the window do not count.
    assert RULES.allowed_from([PastCall(NOON - timedelta(hours=25), "old")] * 20, "new", now=NOON) == NOON


def test_the_same_text_goes_to_one_number_at_most_once_a_day():
    earlier = PastCall(NOON - timedelta(hours=3), "【便民服务】同一条")
    assert RULES.allowed_from([earlier], "【便民服务】同一条", now=NOON) == earlier.at + timedelta(hours=24)
    assert RULES.allowed_from([earlier], "【便民服务】另一条", now=NOON) == NOON


def test_messages_close_together_wait_for_the_window_then_go_as_one_sms():
    first = pending("【青石镇便民服务中心】张三您好，您申请的医保参保登记已受理。", queued=NOON - timedelta(seconds=30))
    second = pending("【青石镇便民服务中心】张三您好，请补交户口簿。", template="materials_requested",
                     queued=NOON - timedelta(seconds=10))
    [held] = plan([first, second], [], now=NOON, rules=RULES)
    assert held == Wait((first, second), first.created_at + timedelta(seconds=60), "merge_window")

    later = NOON + timedelta(seconds=31)
    [sent] = plan([first, second], [], now=later, rules=RULES)
    assert isinstance(sent, Send) and sent.messages == (first, second)
    assert sent.text == "【青石镇便民服务中心】张三您好，您申请的医保参保登记已受理。张三您好，请补交户口簿。"


def test_without_a_merge_window_each_message_is_its_own_sms_within_the_limits():
    rules = SendRules(merge_window=timedelta(0))
    one, two, three = pending("一"), pending("二"), pending("三")
    steps = plan([one, two, three], [], now=NOON, rules=rules)
    assert steps[:2] == [Send((one,), "一"), Send((two,), "二")]
    assert steps[2] == Wait((three,), NOON + timedelta(minutes=1), "rate_limit")  # two a minute: the third waits


def test_a_merged_sms_stays_within_the_longest_sms_and_the_rest_follows():
    rules = SendRules(merged_max_chars=100)
    parts = [pending("【便民服务】" + "字" * 40) for _ in range(3)]
    first, second = plan(parts, [], now=NOON, rules=rules)
    assert isinstance(first, Send) and first.messages == tuple(parts[:2]) and len(first.text) <= 100
    assert isinstance(second, Send) and second.messages == (parts[2],)  # the second call of the minute


def test_merge_keeps_other_signatures_and_single_texts_whole():
    assert merge_texts(["【甲】一。"]) == "【甲】一。"
    assert merge_texts(["【甲】一。", "【甲】二。", "【乙】三。"]) == "【甲】一。二。【乙】三。"


def test_a_resident_message_at_night_waits_until_eight_in_shanghai():
    night = datetime(2026, 11, 24, 22, 0, tzinfo=SHANGHAI)
    message = pending(queued=night)
    [step] = plan([message], [], now=night, rules=RULES)
    assert step == Wait((message,), datetime(2026, 11, 25, 8, 0, tzinfo=SHANGHAI), "quiet_hours")
    early = datetime(2026, 11, 25, 7, 59, tzinfo=SHANGHAI)
    assert RULES.quiet_until(early) == datetime(2026, 11, 25, 8, 0, tzinfo=SHANGHAI)
    assert RULES.quiet_until(datetime(2026, 11, 24, 21, 29, tzinfo=SHANGHAI)) is None
    assert RULES.quiet_until(datetime(2026, 11, 24, 21, 30, tzinfo=SHANGHAI)) is not None
    # The instant is read in Shanghai whatever zone it comes in: 14:00 UTC is 22:00 there.
    assert RULES.quiet_until(datetime(2026, 11, 24, 14, 0, tzinfo=UTC)) is not None


def test_quiet_hours_within_one_day_and_none_at_all():
    lunch = SendRules(quiet_start=time(12, 0), quiet_end=time(13, 30))
    assert lunch.quiet_until(NOON) == datetime(2026, 11, 24, 13, 30, tzinfo=SHANGHAI)
    assert lunch.quiet_until(NOON - timedelta(minutes=1)) is None
    assert SendRules(quiet_start=time(0), quiet_end=time(0)).quiet_until(NOON.replace(hour=3)) is None


def test_a_breach_alert_goes_at_night_alone_and_only_the_limits_hold_it():
    night = datetime(2026, 11, 24, 23, 0, tzinfo=SHANGHAI)
    breach = pending("【便民服务】王芳：办件超期。", template="deadline_breached", queued=night)
    other = pending(queued=night)
    steps = plan([breach, other], [], now=night, rules=RULES)
    assert steps[0] == Send((breach,), breach.text)
    assert isinstance(steps[1], Wait) and steps[1].messages == (other,) and steps[1].reason == "quiet_hours"
    busy = [PastCall(night - timedelta(seconds=20), "a"), PastCall(night - timedelta(seconds=10), "b")]
    assert plan([breach], busy, now=night, rules=RULES) == [Wait((breach,), busy[0].at + timedelta(minutes=1),
                                                                 "rate_limit")]


def test_defaults_sit_inside_the_providers_limits():
    settings = NotifySettings()
    # Carriers take about 10 notification SMS a day to one number; Alibaba 50 per template a day.
    assert settings.limit_per_day <= 10 and settings.limit_per_hour <= settings.limit_per_day
    assert settings.merge_window_seconds == 60 and settings.quiet_start == time(21, 30)
    assert settings.quiet_end == time(8, 0)


def test_after_the_clock_moved_back_nothing_from_the_future_holds_a_message():
    """Demo and tests move the clock forward and back: calls and messages 'in the future' hold nothing."""
    later = NOON + timedelta(days=30)
    message = pending(queued=later)
    assert plan([message], [PastCall(later, message.text)] * 5, now=NOON, rules=RULES) == [
        Wait((message,), NOON + RULES.merge_window, "merge_window")]
    assert RULES.longest_hold >= max(timedelta(hours=24), RULES.same_text, RULES.merge_window)


def test_a_message_that_waited_out_its_window_waits_for_no_other():
    served = Pending(message_id=uuid4(), template_code="case_submitted", text="一", created_at=NOON + timedelta(hours=30),
                     merge_served=True)
    newcomer = pending("二", queued=NOON)
    [step] = plan([served, newcomer], [], now=NOON, rules=RULES)
    assert step == Send((served, newcomer), "一二")
