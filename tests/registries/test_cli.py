"""``python -m registries``: arguments, samples, and serving until a signal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import date
from pathlib import Path

import aiohttp
import pytest

from registries.cli import (
    DEFAULT_PORT_OFFSETS,
    build_parser,
    faults_from_args,
    port_for,
    run_registries_from_args,
)
from registries.dataset import Dataset
from registries.faults import Faults

ROOT = Path(__file__).resolve().parents[2]


def test_port_offsets_are_fixed_and_distinct() -> None:
    assert DEFAULT_PORT_OFFSETS["environment"] == 0
    assert DEFAULT_PORT_OFFSETS["commerce"] == 3
    assert DEFAULT_PORT_OFFSETS["credit_agency"] == 10
    assert len(set(DEFAULT_PORT_OFFSETS.values())) == len(DEFAULT_PORT_OFFSETS)
    assert port_for("health", 9101) == 9103
    assert port_for("health", 0) == 0


def test_fault_flags_map_to_faults() -> None:
    args = build_parser().parse_args(
        ["serve", "--error-rate", "0.1", "--latency-ms", "20", "--fault-seed", "3", "--seed", "9"]
    )
    assert faults_from_args(args) == Faults(error_rate=0.1, latency_ms=20, seed=3)
    assert args.seed == 9
    assert faults_from_args(build_parser().parse_args(["serve"])) == Faults()
    precise = build_parser().parse_args(["serve", "--latency-ms", "20", "--precise-latency"])
    assert faults_from_args(precise) == Faults(latency_ms=20, precise_latency=True)


def test_departments_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--departments", "commerce, health"])
    assert args.departments == ["commerce", "health"]
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--departments", "environment,tourism"])
    assert exit_info.value.code == 2
    assert "unknown department 'tourism'" in capsys.readouterr().err


def test_impossible_faults_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_registries_from_args(["serve", "--error-rate", "0.8", "--drop-rate", "0.8"])
    assert exit_info.value.code == 2
    assert "fault rates add up" in capsys.readouterr().err


def test_samples_command(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["samples", "--subjects", "1000", "--seed", "42", "--today", "2025-06-30"]
    assert run_registries_from_args(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == Dataset(1000, 42, date(2025, 6, 30)).samples()


async def test_serve_announces_each_registry_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "registries",
        "serve",
        "--departments",
        "environment,commerce",
        "--base-port",
        "0",
        "--subjects",
        "500",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines = [await asyncio.wait_for(process.stdout.readline(), 10) for _ in range(2)]
        announced = [json.loads(line) for line in lines]
        assert [line["department"] for line in announced] == ["environment", "commerce"]
        async with aiohttp.ClientSession() as http:
            for line in announced:
                async with http.get(f"{line['url']}/v1/health") as response:
                    body = await response.json()
                assert body == {"status": "ok", "department": line["department"], "subjects": 500}
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
