"""The fan-out benchmark's goal ratio, the bootstrap interval reported with it, and the report."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime

import pytest

from bench.fanout import (
    DEPARTMENTS,
    ColdSamples,
    LoadRun,
    Results,
    SubjectIds,
    analyse,
    goal_ratio,
    machine_info,
    parse_args,
    percentile,
    ratio_interval,
    report,
)


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


def _results(floor_validates: bool) -> Results:
    """A run's samples, made up: the gateway 3 ms over 20 ms registries, the floor 1.5 ms."""
    count = 100
    plan = dataclasses.replace(parse_args([]), cold_requests=count, floor_validates=floor_validates)
    cold = ColdSamples(
        gateway=[23.0 + i / 100 for i in range(count)],
        gateway_upstream=[20.5] * count,
        floor=[21.5 + i / 100 for i in range(count)],
        direct={d: [20.0 + i / 200 for i in range(count)] for d in DEPARTMENTS},
        direct_max=[20.0 + i / 100 for i in range(count)],
        direct_fanout=[21.0] * count,
    )
    runs = [
        LoadRun(target, round_no, requests, 0, 8.0, 1.0, 1.0)
        for round_no in range(1, plan.rounds + 1)
        for target, requests in (("baseline", 80_000), ("gateway", 8_000))
    ]
    ids = SubjectIds([], [], [], [], [], [], held_by_all=0)
    machine = {**machine_info(), "load_average_at_end": None}
    return Results(plan, datetime.now(UTC), machine, ids, {}, cold, 1382, runs)


@pytest.mark.parametrize("floor_validates", [False, True])
def test_the_report_measures_the_goal_and_names_what_its_floor_does(floor_validates: bool) -> None:
    figures = analyse(_results(floor_validates))
    cold = figures["cold"]
    gateway_p50 = percentile([23.0 + i / 100 for i in range(100)], 50)
    # The goal divides by the faster of the two fan-outs without a gateway at each percentile,
    # here the sequential GETs' slowest (20.5 ms, against the concurrent fan-out's 21) ...
    assert cold["goal_reference_ms"]["p50"] == pytest.approx(20.495)
    assert cold["goal_reference_from"]["p50"] == "sequential"
    assert cold["ratio_vs_goal_reference"]["p50"] == pytest.approx(gateway_p50 / 20.495)
    assert cold["goal"]["p50_met"] is True  # 23.5 / 20.5 <= 1.15
    # ... and still reports each registry's own percentile, the slowest (23.5 / 20.25 > 1.15).
    slowest_p50 = percentile([20.0 + i / 200 for i in range(100)], 50)
    assert cold["ratio_vs_slowest_registry"]["p50"] == pytest.approx(gateway_p50 / slowest_p50)
    assert cold["ratio_vs_slowest_registry"]["p50"] > 1.15
    assert cold["goal_budget"]["p50"]["allowed_ms"] == pytest.approx(0.15 * 20.495)
    assert cold["goal_budget"]["p50"]["gateway_own_ms"] == pytest.approx(1.5)
    assert figures["warm"]["gateway_fraction_of_baseline"] == pytest.approx(0.1)
    text = report(figures)
    floor_says = "records validated" if floor_validates else "no gateway work"
    assert f"floor: the same 4 GETs, {floor_says}" in text
    assert ("taken by the floor (with validation)" in text) is floor_validates


def test_a_verdict_the_runs_own_noise_could_flip_is_called_not_conclusive() -> None:
    results = _results(floor_validates=False)
    count = len(results.cold.gateway)
    steady = dataclasses.replace(
        results.cold,
        direct={d: [20.0] * count for d in DEPARTMENTS},
        direct_max=[20.0] * count,
        direct_fanout=[20.0] * count,
    )
    # p99 just over 1.15 x 20 ms, decided by the few slowest requests: resampling can drop them.
    near_the_line = [22.0] * (count - 5) + [22.9, 22.95, 23.0, 23.05, 23.1]
    near = analyse(
        dataclasses.replace(results, cold=dataclasses.replace(steady, gateway=near_the_line))
    )
    goal = near["cold"]["goal"]
    assert (goal["p99_met"], goal["p99_conclusive"]) == (False, False)
    assert (goal["p50_met"], goal["p50_conclusive"]) == (True, True)  # 22 / 20 every time
    assert "p50 met, p99 NOT met, not conclusively" in report(near)
    far_over = dataclasses.replace(steady, gateway=[24.0] * count)
    far = analyse(dataclasses.replace(results, cold=far_over))
    goal = far["cold"]["goal"]
    assert (goal["p99_met"], goal["p99_conclusive"]) == (False, True)
    assert "p99 NOT met (the interval" in report(far)
    # A --quick run's 40 samples decide nothing, however clear its ratios look.
    quick = dataclasses.replace(results, plan=dataclasses.replace(results.plan, quick=True))
    goal = analyse(dataclasses.replace(quick, cold=far_over))["cold"]["goal"]
    assert (goal["p50_conclusive"], goal["p99_conclusive"]) == (False, False)


def test_a_fan_out_that_adds_nothing_scores_one_against_the_goals_reference() -> None:
    """Why the goal divides by the slowest registry of each iteration: a gateway that added
    nothing to four registries with tails would still score over 1 at p99 against the largest
    registry's own p99 (a p99 of the slowest of four is a single registry's p99.75), and by as
    much as the tails say, not by anything the gateway does."""
    rng = random.Random(11)
    count = 1600

    def answer() -> float:
        return 20.0 + rng.expovariate(1.0)  # a registry at 20 ms with a tail of 1 ms mean

    def four() -> list[float]:
        return [answer() for _ in DEPARTMENTS]

    direct = [four() for _ in range(count)]
    results = _results(floor_validates=False)
    cold = dataclasses.replace(
        results.cold,
        gateway=[max(four()) for _ in range(count)],  # waits for its slowest answer, no more
        direct={d: [calls[k] for calls in direct] for k, d in enumerate(DEPARTMENTS)},
        direct_max=[max(calls) for calls in direct],
        direct_fanout=[max(four()) for _ in range(count)],
        gateway_upstream=[20.0] * count,
        floor=[21.0] * count,
    )
    figures = analyse(dataclasses.replace(results, cold=cold))["cold"]
    goal, each = figures["ratio_vs_goal_reference"], figures["ratio_vs_slowest_registry"]
    assert goal["p50"] == pytest.approx(1.0, abs=0.03)
    assert goal["p99"] == pytest.approx(1.0, abs=0.03)
    assert each["p99"] > 1.04
    assert each["p99"] > goal["p99"] + 0.02


def test_the_goals_reference_is_the_faster_fan_out_at_each_percentile() -> None:
    """Sequential GETs meet more of the machine's pauses (the higher p99 here); concurrent GETs
    queue at the one registry process (the higher p50 here): each percentile takes the lower."""
    results = _results(floor_validates=False)
    count = len(results.cold.gateway)
    sequential = [20.5] * (count - 3) + [26.0] * 3
    concurrent = [21.2] * count
    cold = dataclasses.replace(results.cold, direct_max=sequential, direct_fanout=concurrent)
    figures = analyse(dataclasses.replace(results, cold=cold))["cold"]
    assert figures["goal_reference_ms"] == pytest.approx({"p50": 20.5, "p99": 21.2})
    assert figures["goal_reference_from"] == {"p50": "sequential", "p99": "concurrent"}
    gateway = figures["gateway_ms"]
    assert figures["ratio_vs_goal_reference"]["p99"] == pytest.approx(gateway["p99"] / 21.2)
    low, high = figures["ratio_vs_goal_reference_90pct_interval"]["p99"]
    assert low <= figures["ratio_vs_goal_reference"]["p99"] <= high
    assert "(sequential, concurrent)" in report(analyse(dataclasses.replace(results, cold=cold)))
