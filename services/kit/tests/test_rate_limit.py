"""The in-process request limiter: a bucket per key, refilled evenly, bounded in keys."""

from __future__ import annotations

import pytest

from services.kit.rate_limit import RateLimiter, too_many_requests

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_capacity_then_wait_then_refill_per_key():
    clock = FakeClock()
    limiter = RateLimiter(capacity=3, window=60, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == pytest.approx(20.0)  # one request per 20 s comes back
    assert limiter.take("b") == 0  # another key has its own bucket
    clock.t += 20
    assert limiter.take("a") == 0
    assert limiter.take("a") > 0


def test_refused_requests_do_not_deepen_the_wait():
    clock = FakeClock()
    limiter = RateLimiter(capacity=1, window=10, clock=clock)
    limiter.take("a")
    assert limiter.take("a") == limiter.take("a") == pytest.approx(10.0)


def test_the_least_recently_seen_keys_are_forgotten_beyond_the_bound():
    limiter = RateLimiter(capacity=1, window=60, max_keys=2, clock=FakeClock())
    for key in ("a", "b", "c"):
        limiter.take(key)
    assert limiter.take("a") == 0  # forgotten, so full again
    assert limiter.take("c") > 0


def test_the_answer_says_when_to_come_back_in_whole_seconds():
    error = too_many_requests(0.2, "X_LIMITED", "请稍后再试")
    assert (error.status, error.code, error.headers) == (429, "X_LIMITED", {"Retry-After": "1"})
    assert too_many_requests(59.01, "X", "m").headers == {"Retry-After": "60"}


def test_nonsense_limits_are_refused():
    with pytest.raises(ValueError):
        RateLimiter(capacity=0, window=1)
