"""A small in-process request limiter: one token bucket per key (a client address, a case number).

In-process on purpose: it needs no shared store, and each instance of a service limits on its own,
so N instances allow N times the rate (docs/adr/0021-rating-channels.md). The least recently seen
keys are forgotten beyond `max_keys`, so a flood of new keys cannot grow memory without bound.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from services.kit.errors import ApiError


class RateLimiter:
    """`capacity` requests per key at once, refilled evenly over `window` seconds."""

    def __init__(self, *, capacity: int, window: float, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or window <= 0:
            raise ValueError("capacity must be at least 1 and window positive")
        self.capacity, self.rate, self.max_keys, self._clock = capacity, capacity / window, max_keys, clock
        self._buckets: OrderedDict[Any, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: Any) -> float:
        """Takes one request for `key`: 0 when allowed, else the seconds until one is."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(self.capacity), now))
        tokens = min(float(self.capacity), tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def too_many_requests(wait: float, code: str, message: str) -> ApiError:
    """429 with Retry-After in whole seconds (at least 1)."""
    return ApiError(429, code, message, headers={"Retry-After": str(max(1, math.ceil(wait)))})
