"""Staffing by Erlang C: known values, and the fewest windows that keep the wait under a target."""

from __future__ import annotations

import math

import pytest

from services.kit.hall_figures import erlang_c, expected_wait_seconds, windows_needed


def test_erlang_c_known_values():
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # one window: the chance to wait is its utilisation
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_c(2, 2.0) == 1.0 and erlang_c(3, 0.0) == 0.0


def test_expected_wait_of_one_window_is_the_mm1_wait():
    # M/M/1: Wq = rho / (mu - lambda); 4 an hour served in 10 minutes: rho 2/3, wait 20 minutes.
    assert expected_wait_seconds(1, arrivals_per_hour=4, mean_service_seconds=600) == pytest.approx(1200)
    assert math.isinf(expected_wait_seconds(1, arrivals_per_hour=6, mean_service_seconds=600))


def test_windows_needed_keeps_the_wait_under_the_target():
    assert windows_needed(arrivals_per_hour=0, mean_service_seconds=600, target_wait_seconds=900) == 0
    assert windows_needed(arrivals_per_hour=4, mean_service_seconds=600, target_wait_seconds=1800) == 1
    assert windows_needed(arrivals_per_hour=4, mean_service_seconds=600, target_wait_seconds=900) == 2
    for rate in (3, 12, 30, 55):
        c = windows_needed(arrivals_per_hour=rate, mean_service_seconds=480, target_wait_seconds=900)
        assert expected_wait_seconds(c, arrivals_per_hour=rate, mean_service_seconds=480) <= 900
        assert c == 1 or expected_wait_seconds(c - 1, arrivals_per_hour=rate, mean_service_seconds=480) > 900
