"""The fan-out benchmark's goal ratio and the bootstrap interval reported with it."""

from __future__ import annotations

import random

import pytest

from bench.fanout import goal_ratio, percentile, ratio_interval


def test_the_goal_ratio_divides_by_the_slowest_registry_at_that_percentile() -> None:
    gateway = [24.0, 25.0, 26.0]
    fast, slow = [20.0, 20.0, 21.0], [21.0, 21.0, 21.0]
    assert goal_ratio(gateway, [fast, slow], 50) == pytest.approx(25.0 / 21.0)
    assert goal_ratio(gateway, [fast, slow], 100) == pytest.approx(26.0 / 21.0)


def test_constant_samples_give_an_interval_of_one_point() -> None:
    low, high = ratio_interval([23.0] * 50, [[20.0] * 50, [21.0] * 50], 99)
    assert low == high == pytest.approx(23.0 / 21.0)


def test_the_interval_brackets_the_run_and_is_reproducible() -> None:
    rng = random.Random(7)
    gateway = [23.0 + rng.expovariate(2.0) for _ in range(400)]
    registries = [[20.8 + rng.expovariate(8.0) for _ in range(400)] for _ in range(4)]
    ratio = goal_ratio(gateway, registries, 99)
    low, high = ratio_interval(gateway, registries, 99, resamples=300)
    assert low < ratio < high
    assert (low, high) == ratio_interval(gateway, registries, 99, resamples=300)
    median_low, median_high = ratio_interval(gateway, registries, 50, resamples=300)
    assert median_high - median_low < high - low  # a median is steadier than a p99


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([5.0], 99) == 5.0
