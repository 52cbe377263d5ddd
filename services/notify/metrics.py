"""Notify's own metrics: SMS handed to the provider, failed attempts, messages given up, per provider; staff who
should have been told and have no number, per template."""

from __future__ import annotations

from prometheus_client import Counter

SMS_SENT = Counter("bianmin_sms_sent", "SMS the provider accepted.", ["provider"])
SMS_FAILED = Counter("bianmin_sms_failed", "SMS attempts that failed (retried later unless given up).", ["provider"])
SMS_GIVEN_UP = Counter("bianmin_sms_given_up", "SMS given up after the last attempt: nobody was told.", ["provider"])
SMS_UNREACHABLE = Counter("bianmin_sms_unreachable", "Staff SMS not queued: no number known for the recipient "
                          "(recorded in unreachable_notices).", ["template_code"])


def record_sms(provider: str, *, sent: bool, given_up: bool = False) -> None:
    if sent:
        SMS_SENT.labels(provider).inc()
        return
    SMS_FAILED.labels(provider).inc()
    if given_up:
        SMS_GIVEN_UP.labels(provider).inc()


def record_unreachable(template_code: str) -> None:
    SMS_UNREACHABLE.labels(template_code).inc()
