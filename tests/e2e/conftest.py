"""Fixtures of the end-to-end tests that run the server's processes (tests/e2e/gateway_stack.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.harness import ProcessGroup
from registries.dataset import Dataset
from tests.e2e.gateway_stack import DEPARTMENTS, SEED, SUBJECTS


@pytest.fixture
def group(tmp_path: Path) -> Iterator[ProcessGroup]:
    with ProcessGroup(tmp_path) as processes:
        yield processes


@pytest.fixture(scope="module")
def subject_ids() -> list[str]:
    """Ids that all four registries hold, so a full profile asks (and waits for) each of them."""
    dataset = Dataset(size=SUBJECTS, seed=SEED)
    return [
        dataset.subject(index).id
        for index in range(SUBJECTS)
        if all(dataset.holds(department, index) for department in DEPARTMENTS)
    ]
