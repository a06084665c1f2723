"""Where a cold profile's time goes, inside the gateway and the floor: `bench.fanout`'s cold phase
run with both servers under `bench.timeline_probe`.

``python -m bench.timeline [--cold-requests N]`` (400 unless told: medians need far fewer samples
than the goal's p99) prints, for the gateway and the floor, the
median of each segment of a cold profile (from the request's first bytes to its response's last)
in the middle fifth of the requests and in their slowest tenth, with the share of the middle
fifth's segment the server's thread spent on the CPU (so a segment of work is told from one of
waiting), and the widest gaps between two marks in the slowest requests: whether a tail is the
work getting slower or a pause somewhere.
The marks cost a few percent, so its ratios are a little above `bench.fanout`'s; the warm phase
is cut to a second. Figures go to stdout only.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import fanout
from bench.harness import StartError, run_benchmark

Mark = tuple[str, float, float | None]
"""A mark's name, its wall-clock time and the server thread's CPU time, in microseconds from the
request's first bytes (`in`); the CPU time is None in a file of a probe that did not record it."""
Request = list[Mark]

SEGMENTS: dict[str, tuple[tuple[str, bool], tuple[str, bool]]] = {
    # name: ((from mark, its last occurrence?), (to mark, its last occurrence?))
    "request read, first load started": (("in", False), ("start", False)),
    "first upstream request written": (("in", False), ("sent", False)),
    "first to last upstream request written": (("sent", False), ("sent", True)),
    "first upstream request to its first answer": (("sent", False), ("ans", False)),
    "first answer's bytes to its headers parsed": (("ans", False), ("hdr", False)),
    "last answer's bytes to its headers parsed": (("ans", True), ("hdr", True)),
    "first answer to last record validated": (("ans", False), ("val", True)),
    "last record validated to execution's end": (("val", True), ("done", False)),
    "execution's end to response written": (("done", False), ("out", False)),
    "first answer to response written": (("ans", False), ("out", False)),
    "whole request": (("in", False), ("out", False)),
}


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    middle_us: float
    """Median over the middle fifth of the requests, by their whole time."""
    slowest_us: float
    """Median over the slowest tenth."""
    cpu_share: float | None = None
    """The server thread's CPU time over the wall time, medians over the middle fifth."""


def load(path: Path, upstream_answers: int = 4) -> list[Request]:
    """The cold profiles of a probe's file: requests that read `upstream_answers` answers."""
    requests: list[Request] = []
    for marks in json.loads(path.read_text(encoding="utf-8")):
        if sum(1 for mark in marks if mark[0] == "ans") < upstream_answers:
            continue
        start = marks[0][1]
        cpu_start = marks[0][2] if len(marks[0]) > 2 else None
        requests.append(
            [
                (
                    str(mark[0]),
                    (mark[1] - start) / 1000.0,
                    None if cpu_start is None else (mark[2] - cpu_start) / 1000.0,
                )
                for mark in marks
            ]
        )
    return requests


def _at(request: Request, mark: str, last: bool) -> Mark | None:
    found = [m for m in request if m[0] == mark]
    if not found:
        return None
    return found[-1] if last else found[0]


def _lengths(
    requests: Sequence[Request], begin: tuple[str, bool], end: tuple[str, bool], cpu: bool = False
) -> list[float]:
    """Each request's wall time from `begin` to `end` (its CPU time with `cpu`, where known)."""
    found = []
    for request in requests:
        start, stop = _at(request, *begin), _at(request, *end)
        if start is None or stop is None:
            continue
        first, last = (start[2], stop[2]) if cpu else (start[1], stop[1])
        if first is not None and last is not None:
            found.append(last - first)
    return found


def segments(requests: Sequence[Request]) -> list[Segment]:
    """Each segment's median in the middle fifth and in the slowest tenth of `requests`; segments
    whose marks a server does not have (the floor has no `start`, `val`, `done`) are left out."""
    ordered = sorted(requests, key=lambda request: request[-1][1])
    count = len(ordered)
    middle = ordered[int(count * 0.4) : int(count * 0.6)] or ordered
    slowest = ordered[int(count * 0.9) :] or ordered
    found = []
    for name, (begin, end) in SEGMENTS.items():
        middle_lengths = _lengths(middle, begin, end)
        slowest_lengths = _lengths(slowest, begin, end)
        if middle_lengths and slowest_lengths:
            middle_us = statistics.median(middle_lengths)
            cpu_lengths = _lengths(middle, begin, end, cpu=True)
            share = (
                statistics.median(cpu_lengths) / middle_us if cpu_lengths and middle_us else None
            )
            found.append(Segment(name, middle_us, statistics.median(slowest_lengths), share))
    return found


def widest_gaps(request: Request, count: int = 3) -> list[tuple[float, str, str]]:
    """The `count` longest stretches between two consecutive marks, the registries' wait (from
    the last request written to the first answer) left out."""
    gaps = [
        (later - earlier, first, second)
        for (first, earlier, _), (second, later, _) in itertools.pairwise(request)
        if not (second == "ans" and first in ("sent", "start"))
    ]
    return sorted(gaps, reverse=True)[:count]


def report(name: str, requests: Sequence[Request]) -> str:
    if not requests:
        return f"{name}: no cold profile was recorded"
    lines = [
        f"{name}: {len(requests)} cold profiles (µs, medians)",
        f"  {'segment':<46} {'middle fifth':>13} {'slowest tenth':>14} {'CPU share':>10}",
    ]
    lines += [
        f"  {s.name:<46} {s.middle_us:13.0f} {s.slowest_us:14.0f} {_share(s.cpu_share):>10}"
        for s in segments(requests)
    ]
    lines.append("  the slowest requests' widest gaps between two marks (µs, from, to):")
    for request in sorted(requests, key=lambda r: r[-1][1])[-5:]:
        widest = widest_gaps(request)
        gaps = ", ".join(f"{gap:.0f} {first}->{second}" for gap, first, second in widest)
        lines.append(f"    {request[-1][1]:8.0f} total: {gaps}")
    return "\n".join(lines)


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def probed(directory: Path) -> fanout.Instrument:
    """Run each server under the probe, its marks written to `directory/<name>.json`."""

    def instrument(name: str, argv: list[str]) -> list[str]:
        module_at = argv.index("-m") + 1
        out = directory / f"{name}.json"
        return [argv[0], "-m", "bench.timeline_probe", str(out), *argv[module_at:]]

    return instrument


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    defaults = ["--cold-requests", "400"]
    plan = fanout.parse_args(
        [*defaults, *given, "--rounds", "1", "--duration", "1", "--warmup", "0.2"]
    )

    def body(log: Callable[[str], None]) -> int:
        with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
            directory = Path(tmp)
            results = fanout.run(plan, log, probed(directory))
            figures = fanout.analyse(results)
            cold = figures["cold"]
            print(
                "gateway ÷ slowest registry of each profile (with the marks' cost), p50 / p99: "
                f"{cold['ratio_vs_goal_reference']['p50']:.3f} / "
                f"{cold['ratio_vs_goal_reference']['p99']:.3f}"
            )
            for name in ("gateway", "floor"):
                path = directory / f"{name}.json"
                requests = load(path) if path.exists() else []
                print(report(name, requests))
        return 0

    return run_benchmark("timeline", body, (fanout.BenchError, StartError))


if __name__ == "__main__":
    raise SystemExit(main())
