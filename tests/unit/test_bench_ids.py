"""The fan-out benchmark's subject ids: every measured id is held by all four registries, the sets
are disjoint, and a dataset too small for the cold phase is refused before anything starts."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bench.fanout import DEPARTMENTS, BenchError, parse_args, pick_ids
from registries.dataset import Dataset

TODAY = date(2026, 12, 6)


def test_measured_ids_are_held_everywhere_and_disjoint() -> None:
    plan = parse_args(["--quick", "--subjects", "3000", "--cold-requests", "40"])
    dataset = Dataset(size=plan.subjects, seed=plan.seed, today=TODAY)
    ids = pick_ids(plan, dataset)
    measured = [
        *ids.primers,
        *ids.gateway_cold,
        *ids.floor_cold,
        *ids.direct_each,
        *ids.direct_fanout,
    ]
    assert len(ids.gateway_cold) == len(ids.floor_cold) == 40
    assert len(set(measured + ids.warm)) == len(measured) + len(ids.warm) == ids.total
    index_of = {dataset.subject(index).id: index for index in range(dataset.size)}
    for subject_id in measured:
        assert all(dataset.holds(department, index_of[subject_id]) for department in DEPARTMENTS)


def test_a_dataset_too_small_for_the_cold_phase_is_refused_with_the_size_that_would_do() -> None:
    plan = parse_args(["--quick", "--subjects", "1000", "--cold-requests", "40"])
    with pytest.raises(BenchError, match="--subjects") as refused:
        pick_ids(plan, Dataset(size=plan.subjects, seed=plan.seed, today=TODAY))
    advised = re.search(r"--subjects (\d+)", str(refused.value))
    assert advised is not None
    size = int(advised.group(1))
    assert size > plan.subjects
    bigger = parse_args(["--quick", "--subjects", str(size), "--cold-requests", "40"])
    ids = pick_ids(bigger, Dataset(size=size, seed=plan.seed, today=TODAY))
    assert len(ids.gateway_cold) == 40


def test_the_default_cold_phase_fits_the_default_dataset() -> None:
    plan = parse_args([])
    assert plan.cold_requests == 1600  # each p99 the 16th-slowest answer (docs/performance.md)
    ids = pick_ids(plan, Dataset(size=plan.subjects, seed=plan.seed, today=TODAY))
    assert len(ids.gateway_cold) == len(ids.floor_cold) == plan.cold_requests
    assert ids.held_by_all == ids.total
