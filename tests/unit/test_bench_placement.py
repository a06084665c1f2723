"""The benchmark's core placement: the server under test alone on a core, the testbed elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.fanout import parse_args
from bench.harness import Placement, ProcessGroup


def test_the_lowest_core_goes_to_the_server_and_the_others_to_the_rest() -> None:
    assert Placement.split({0, 1}) == Placement(frozenset({0}), frozenset({1}))
    assert Placement.split({7, 2, 5}) == Placement(frozenset({2}), frozenset({5, 7}))


def test_a_single_core_is_not_split() -> None:
    assert Placement.split({3}) is None
    assert Placement.split(set()) is None


def test_the_description_names_the_cores() -> None:
    placement = Placement(frozenset({0}), frozenset({1, 2}))
    assert placement.describe() == "server on core 0; registries and load generator on 1, 2"


def test_fanout_pins_unless_told_not_to() -> None:
    assert parse_args([]).pin is True
    assert parse_args(["--no-pin"]).pin is False


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs at least two cores to place a process on one of them",
)
def test_a_started_process_runs_only_on_its_cores(tmp_path: Path) -> None:
    core = max(os.sched_getaffinity(0))
    probe = "import os, sys; print(sorted(os.sched_getaffinity(0))); sys.stdout.flush()"
    with ProcessGroup(tmp_path) as group:
        process = group.start("probe", [sys.executable, "-c", probe], {core})
        try:
            assert process.popen.wait(timeout=30) == 0
        except subprocess.TimeoutExpired:
            pytest.fail("the probe did not exit")
        assert process.log_text().strip() == str([core])
