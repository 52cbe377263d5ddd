"""What /readyz says of the relay, from its bookkeeping: standby is fine, stuck and failing are not."""

from __future__ import annotations

import pytest

from services.kit.readiness import RelayFacts, relay_verdict

pytestmark = pytest.mark.unit


def verdict(**facts) -> str:
    base = dict(state="active", failures=0, since_progress=0.0, oldest_pending_age=None, kafka_ok=True)
    return relay_verdict(RelayFacts(**(base | facts)), stuck_after=60, failures_tolerated=5)


@pytest.mark.parametrize(("facts", "expected"), [
    ({}, "active"),
    ({"state": "standby"}, "standby"),
    ({"state": "standby", "oldest_pending_age": 999.0, "since_progress": 999.0}, "standby"),  # another holds the lock
    ({"state": "starting"}, "starting"),
    ({"oldest_pending_age": 999.0, "since_progress": 5.0}, "active"),  # a backlog that moves
    ({"oldest_pending_age": 5.0, "since_progress": 999.0}, "active"),  # idle for long, a row just came
    ({"oldest_pending_age": 61.0, "since_progress": 61.0}, "stuck"),
    ({"oldest_pending_age": 61.0, "since_progress": 61.0, "kafka_ok": False}, "waiting_for_kafka"),
    ({"state": "failing", "failures": 2}, "active"),  # a blip, retried
    ({"state": "failing", "failures": 5}, "failing"),
    ({"state": "failing", "failures": 50, "kafka_ok": False}, "waiting_for_kafka"),
    ({"state": "standby", "failures": 5}, "failing"),  # cannot even reach its lock
])
def test_relay_verdict(facts, expected):
    assert verdict(**facts) == expected
