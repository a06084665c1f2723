"""Fan-out benchmark: what the gateway adds on top of the registries it asks, measured in one run.

Two questions, each answered as a ratio against a reference measured in the same run, because the
machine (2 shared, noisy cores) makes absolute figures meaningless from one run to the next:

1. **Cold full profile.** A profile whose four departments all miss the cache costs one round trip
   to the slowest registry, at best. Sequential requests (concurrency 1) for subject ids never asked
   before are compared with direct ``GET /v1/subjects/{id}`` calls to each registry from the same
   client, interleaved with them so both see the same noise. Goal (issue): gateway p50 and p99 at
   most 1.15x the slowest registry's, where the slowest registry is that of each profile, as two
   fan-outs with no gateway measure it (`GOAL_REFERENCE`).
2. **Warm full profile throughput.** With every record cached, the gateway's requests per second at
   a fixed concurrency, as a fraction of a plain starlette route (`bench.baseline_app`) that answers
   the very same response bytes under the same uvicorn options, driven identically; the two
   alternate (baseline, gateway, baseline, gateway ...) and the medians are compared.

Everything runs on loopback in subprocesses this module starts and always stops: the four reference
registries (one process, ``--latency-ms 20``, no jitter), the gateway (``credit-gateway serve``, one
uvicorn worker) and the baseline. The load generator runs in this process, so it competes with the
server for the same two cores; the report says how much CPU each side used.

    .venv/bin/python -m bench.fanout            # the full run (~5 minutes)
    .venv/bin/python -m bench.fanout --quick    # a smoke check (~30 s)

The figures are printed and written as JSON to ``var/bench/fanout.json`` (``fanout-quick.json``
for ``--quick``, so a smoke check never overwrites the figures of a full run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import importlib.metadata
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Collection, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import orjson

from bench.harness import (
    PROJECT_ROOT,
    ManagedProcess,
    Placement,
    ProcessGroup,
    StartError,
    cpu_seconds,
    run_benchmark,
    start_reference_registries,
    uvicorn_port,
    wait_http_ok,
    wait_until,
)
from registries.dataset import Dataset
from schema.examples import PROFILE_QUERY

T = TypeVar("T")

DEPARTMENTS: tuple[str, ...] = ("environment", "quality", "health", "commerce")
GOAL_COLD_RATIO = 1.15
"""Issue goal: cold p50 and p99 at most this multiple of the slowest registry's."""
GOAL_REFERENCE = (
    "the slowest registry of each profile: at each percentile, the faster of two fan-outs with "
    "no gateway, the slowest of four sequential direct GETs per iteration and four concurrent "
    "direct GETs from the same client"
)
"""What the goal's ratio divides by, and why not each registry's own percentile.

A profile waits for the slowest of its four registries, so a gateway that added nothing would
take, at each percentile, that percentile of the slowest of four answers. At p50 this is about a
single registry's; at p99 it is a single registry's p99.75 (1 - 0.9975^4 = 1 %), so divided by the
largest single-registry p99, a gateway that added nothing scores over 1 at p99, by as much as the
registries' own tails say (1.05-1.09x in this machine's runs). That quotient measures the
registries; the goal is about what the gateway adds. The slowest registry of each profile is
measured twice, each way flattering the gateway in one respect, and the faster of the two is
taken at each percentile:

- the slowest of four sequential GETs of one iteration: each registry on its own, as on a
  department's own server, but at four moments of the machine, so a rare pause is four times as
  likely to be in it as in one concurrent fan-out (the higher of the two at p99, often);
- four GETs sent concurrently: one moment, as the gateway's own four requests, but answered one
  after another by the testbed's one registry process (the higher at p50, by 0.6-0.8 ms here).

Each registry's own percentile is still reported (`ratio_vs_slowest_registry`)."""
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_PRIMERS = 2
"""Ids spent before measuring: open every keep-alive connection and fill the parser caches."""
_COLD_SETS = 4
"""Disjoint sets of cold ids: the gateway's, the floor's, the direct calls', the fan-out's."""


class BenchError(RuntimeError):
    """The benchmark cannot produce meaningful figures (a server failed, a response was wrong)."""


# --------------------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class Plan:
    """What one run does; `--quick` only shrinks the counts and durations."""

    quick: bool
    subjects: int
    seed: int
    latency_ms: float
    cold_requests: int
    warm_ids: int
    concurrency: int
    warmup_s: float
    duration_s: float
    rounds: int
    output: Path
    pin: bool
    """Give the gateway and the baseline a core of their own (`harness.Placement`)."""
    floor_validates: bool = False
    """The floor also validates each record as the connector does (`bench.floor_app --validate`):
    its figures then include what validation alone costs."""


def parse_args(argv: Sequence[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="Fan-out benchmark of credit-gateway: cold latency vs the slowest registry, "
        "warm throughput vs a plain route. Starts and stops everything it needs on loopback.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small counts, about 30 s: a smoke check"
    )
    parser.add_argument(
        "--subjects",
        type=int,
        help="dataset size (200000, enough for the cold ids held by all four registries; quick "
        "50000)",
    )
    parser.add_argument("--seed", type=int, default=42, help="dataset seed (42)")
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="registry latency, no jitter (20)"
    )
    parser.add_argument(
        "--cold-requests",
        type=int,
        help="cold profiles (1600, so that each p99 is the 16th-slowest answer, not a few "
        "outliers'; quick 40)",
    )
    parser.add_argument("--warm-ids", type=int, default=50, help="cached subjects driven (50)")
    parser.add_argument("--concurrency", type=int, default=32, help="warm connections (32)")
    parser.add_argument("--duration", type=float, help="seconds measured per warm run (8; quick 2)")
    parser.add_argument(
        "--warmup", type=float, help="unmeasured seconds before each (1; quick 0.5)"
    )
    parser.add_argument("--rounds", type=int, help="baseline+gateway warm rounds (3; quick 2)")
    parser.add_argument("--output", type=Path, help="JSON file (var/bench/fanout[-quick].json)")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the servers share every core with the registries and the load generator "
        "(default: the server under test gets a core of its own)",
    )
    parser.add_argument(
        "--floor-validates",
        action="store_true",
        help="the floor also decodes and validates each record as the gateway's connector does: "
        "what validation alone costs, measured in place",
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    plan = Plan(
        quick=quick,
        subjects=args.subjects or (50_000 if quick else 200_000),
        seed=args.seed,
        latency_ms=args.latency_ms,
        cold_requests=args.cold_requests or (40 if quick else 1600),
        warm_ids=args.warm_ids,
        concurrency=args.concurrency,
        warmup_s=args.warmup if args.warmup is not None else (0.5 if quick else 1.0),
        duration_s=args.duration or (2.0 if quick else 8.0),
        rounds=args.rounds or (2 if quick else 3),
        output=args.output
        or PROJECT_ROOT / "var" / "bench" / ("fanout-quick.json" if quick else "fanout.json"),
        pin=not args.no_pin,
        floor_validates=bool(args.floor_validates),
    )
    for name in ("cold_requests", "warm_ids", "concurrency", "rounds"):
        if getattr(plan, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if plan.duration_s <= 0 or plan.warmup_s < 0 or plan.latency_ms < 0:
        parser.error("--duration must be positive, --warmup and --latency-ms not negative")
    return plan


# -------------------------------------------------------------------------------------- subjects


@dataclass(frozen=True, slots=True)
class SubjectIds:
    """Disjoint id sets, so that no measured request is helped by an earlier one.

    The registries cache encoded records too, so a direct call for an id the gateway already asked
    for would be cheaper than a first one; each measurement gets ids nobody asked for before.
    """

    primers: list[str]
    gateway_cold: list[str]
    floor_cold: list[str]
    direct_each: list[str]
    direct_fanout: list[str]
    warm: list[str]
    held_by_all: int
    """How many of the ids every registry holds: all the primers' and cold ids; when the scan ran
    out, the warm ids are made up with subjects that some registry does not hold."""

    @property
    def total(self) -> int:
        sets = (
            self.primers,
            self.gateway_cold,
            self.floor_cold,
            self.direct_each,
            self.direct_fanout,
            self.warm,
        )
        return sum(len(ids) for ids in sets)


def pick_ids(plan: Plan, dataset: Dataset) -> SubjectIds:
    """Ids of subjects held by all four registries, so that each profile really asks all four."""
    cold = plan.cold_requests
    wanted = _PRIMERS + _COLD_SETS * cold + plan.warm_ids
    if wanted > dataset.size:
        raise BenchError(f"{wanted} distinct subjects needed but the dataset has {dataset.size}")
    everywhere: list[str] = []
    elsewhere: list[str] = []
    for index in range(dataset.size):
        subject_id = dataset.subject(index).id
        if all(dataset.holds(department, index) for department in DEPARTMENTS):
            everywhere.append(subject_id)
            if len(everywhere) == wanted:
                break
        elif len(elsewhere) < wanted:
            elsewhere.append(subject_id)
    held_by_all = len(everywhere)
    measured = _PRIMERS + _COLD_SETS * cold
    if held_by_all < measured:
        # A cold id some registry does not hold would only fail at its direct GET (a 404), minutes
        # into the run; only the warm ids may be held by fewer than four.
        enough = math.ceil(dataset.size * measured / max(held_by_all, 1) * 1.05)
        raise BenchError(
            f"{measured} cold subjects held by all four registries are needed, but only "
            f"{held_by_all} of the dataset's {dataset.size} are: run with --subjects {enough} "
            "or more, or fewer --cold-requests"
        )
    ids = (everywhere + elsewhere)[:wanted]
    # Consecutive ids go to the cold measurements in turn, so that none of them gets, say, all the
    # subjects with long penalty lists.
    cold_ids = ids[_PRIMERS : _PRIMERS + _COLD_SETS * cold]
    return SubjectIds(
        primers=ids[:_PRIMERS],
        gateway_cold=cold_ids[0::_COLD_SETS],
        floor_cold=cold_ids[1::_COLD_SETS],
        direct_each=cold_ids[2::_COLD_SETS],
        direct_fanout=cold_ids[3::_COLD_SETS],
        warm=ids[_PRIMERS + _COLD_SETS * cold :],
        held_by_all=held_by_all,
    )


MATTER = "CO-JOINT-REVIEW"
"""The matter of the benchmark's lookups (the gateway variant below reads as the credit office)."""


def profile_payload(subject_id: str) -> bytes:
    return orjson.dumps({"query": PROFILE_QUERY, "variables": {"id": subject_id, "matter": MATTER}})


# ----------------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100), linear between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 2026


Pick = Callable[[Iterable[float]], float]
"""How a ratio's reference is chosen among several percentiles: `max` or `min`."""


def goal_ratio(
    gateway: Sequence[float], references: Sequence[Sequence[float]], q: float, pick: Pick = max
) -> float:
    """The gateway's percentile `q` over the references': the largest of them (the slowest
    registry at that percentile) or, with `pick=min`, the smallest (`GOAL_REFERENCE`)."""
    return percentile(gateway, q) / pick(percentile(values, q) for values in references)


def ratio_interval(
    gateway: Sequence[float],
    references: Sequence[Sequence[float]],
    q: float,
    pick: Pick = max,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    coverage: float = 0.9,
) -> tuple[float, float]:
    """A bootstrap interval of `goal_ratio`: how far the run's noise alone could move it.

    Iterations are resampled whole (the gateway's sample and each reference's of the same
    iteration together), since they saw the same moment of the machine; the seed is fixed, so the
    same samples always give the same interval."""
    rng = random.Random(seed)
    count = len(gateway)
    ratios = []
    for _ in range(resamples):
        picks = [rng.randrange(count) for _ in range(count)]
        ratios.append(
            goal_ratio(
                [gateway[i] for i in picks],
                [[values[i] for i in picks] for values in references],
                q,
                pick,
            )
        )
    tail = (1.0 - coverage) / 2 * 100
    return percentile(ratios, tail), percentile(ratios, 100 - tail)


def _conclusive(ratio: float, interval: tuple[float, float]) -> bool:
    """Whether the run's own noise could not have moved the verdict: the whole interval on the
    same side of the goal's line as the ratio."""
    met = ratio <= GOAL_COLD_RATIO
    return all((bound <= GOAL_COLD_RATIO) is met for bound in interval)


def summarise(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
    }


# ------------------------------------------------------------------------------------ processes


def start_registries(
    group: ProcessGroup, plan: Plan, today: date, cores: Collection[int] | None = None
) -> dict[str, str]:
    """The four registries in one process: fewer processes competing for the 2 cores.

    (One process per registry was tried: the testbed's own 4-way fan-out cost the same, about
    1.15x the slowest registry, and the registries' p99 got worse from scheduling.)
    """
    return start_reference_registries(
        group,
        DEPARTMENTS,
        subjects=plan.subjects,
        seed=plan.seed,
        extra_args=(
            "--today",
            today.isoformat(),
            "--latency-ms",
            f"{plan.latency_ms:g}",
            "--jitter-ms",
            "0",
            # A fixed latency, not the event loop's millisecond ticks (registries/latency.py):
            # a fan-out waits for its slowest answer, so jitter the registries do not mean to
            # have would be charged to the gateway.
            "--precise-latency",
        ),
        timeout_s=START_TIMEOUT_S,
        cores=cores,
    )


def gateway_config(registries: dict[str, str], plan: Plan) -> str:
    """A config for `credit-gateway serve`: port 0, caches that keep every id of the run.

    The TTL is far longer than the run and the cache holds every id the run asks for, so a warm
    request is always a hit and a cold one is a miss only because nobody asked for it before.
    """
    max_entries = max(10_000, 4 * (_PRIMERS + _COLD_SETS * plan.cold_requests + plan.warm_ids))
    lines = [
        "[server]",
        'host = "127.0.0.1"',
        "port = 0",
        "",
        "[audit]",  # opened at start, but the benchmark's gateway variant records nothing
        'url = "sqlite:///:memory:"',
        "",
        "[http]",
        "max_connections = 256",
        "max_connections_per_host = 64",
        "",
        "[rate_limits]",  # one client, one token, thousands of requests a second: measured, not
        "enabled = false",  # limited
    ]
    for department, url in registries.items():
        lines += [
            "",
            f"[connectors.{department}]",
            f'base_url = "{url}"',
            "timeout_s = 5.0",
            "cache_ttl_s = 86400",
            "stale_ttl_s = 0",
            f"cache_max_entries = {max_entries}",
        ]
    return "\n".join(lines) + "\n"


def start_uvicorn_server(
    group: ProcessGroup, name: str, argv: Sequence[str], cores: Collection[int] | None = None
) -> tuple[ManagedProcess, str]:
    """Start a uvicorn server asked to listen on port 0; its base URL once /healthz answers."""
    process = group.start(name, argv, cores)
    port = wait_until(process, lambda: uvicorn_port(process), START_TIMEOUT_S, "listen")
    base = f"http://127.0.0.1:{port}"
    wait_http_ok(process, f"{base}/healthz", START_TIMEOUT_S)
    return process, base


# ---------------------------------------------------------------------------------- cold latency


@dataclass
class ColdSamples:
    """Latencies in milliseconds, one entry per measured iteration."""

    gateway: list[float] = field(default_factory=list)
    gateway_upstream: list[float] = field(default_factory=list)
    """The slowest department's `sources.latencyMs`: the fetch as the gateway itself timed it."""
    floor: list[float] = field(default_factory=list)
    """The same four registries asked through the same stack with no gateway work
    (bench/floor_app.py): what the machine and the stack cost before the gateway does anything."""
    direct: dict[str, list[float]] = field(default_factory=lambda: {d: [] for d in DEPARTMENTS})
    direct_max: list[float] = field(default_factory=list)
    """Per iteration, the slowest of the four sequential direct calls."""
    direct_fanout: list[float] = field(default_factory=list)
    """Four direct calls made concurrently by this client: a fan-out with no gateway around it."""
    gateway_cpu_s: float | None = None
    """The gateway process's CPU time over all iterations (it is idle during the direct calls)."""
    not_cold: int = 0
    """Gateway requests in which some department was answered from the cache (should be 0)."""
    source_states: Counter[str] = field(default_factory=Counter)


async def timed(
    session: aiohttp.ClientSession, method: str, url: str, body: bytes | None = None
) -> tuple[float, int, bytes]:
    """(milliseconds, status, body) of one request, the body read to its end."""
    headers = JSON_HEADERS if body is not None else {"accept": "application/json"}
    started = time.perf_counter()
    async with session.request(method, url, data=body, headers=headers) as response:
        payload = await response.read()
        status = response.status
    return (time.perf_counter() - started) * 1000.0, status, payload


def profile_sources(status: int, body: bytes, subject_id: str) -> list[dict[str, Any]]:
    """The `sources` rows of a profile response; BenchError if the response is not a profile.

    Errors from a department (`SOURCE_*`) are data; any other error means the benchmark is not
    measuring what it claims (an invalid id, a refused query), so it stops.
    """
    if status != 200:
        raise BenchError(f"gateway answered HTTP {status} for {subject_id}: {body[:300]!r}")
    document = orjson.loads(body)
    for error in document.get("errors") or []:
        code = str((error.get("extensions") or {}).get("code", ""))
        if not code.startswith("SOURCE_"):
            raise BenchError(f"gateway error for {subject_id}: {code} {error.get('message')}")
    subject = (document.get("data") or {}).get("subject")
    if not isinstance(subject, dict):
        raise BenchError(f"no subject in the gateway's answer for {subject_id}: {body[:300]!r}")
    sources = subject.get("sources")
    if not isinstance(sources, list):
        raise BenchError(f"no sources in the gateway's answer for {subject_id}")
    return sources


def floor_statuses(status: int, body: bytes, subject_id: str) -> list[int]:
    """The registries' statuses in a floor answer; BenchError unless every one answered 200."""
    if status != 200:
        raise BenchError(f"the floor answered HTTP {status} for {subject_id}: {body[:300]!r}")
    statuses = orjson.loads(body).get("statuses")
    if statuses != [200] * len(DEPARTMENTS):
        raise BenchError(f"the floor's registries answered {statuses} for {subject_id}")
    return list(statuses)


async def measure_cold(
    gateway: str,
    gateway_pid: int,
    floor: str,
    registries: dict[str, str],
    ids: SubjectIds,
    session: aiohttp.ClientSession,
) -> ColdSamples:
    """Interleave, per iteration: one cold gateway profile, four sequential direct GETs, one
    concurrent direct fan-out, one floor request, each for a subject nobody asked for before."""
    graphql = f"{gateway}/graphql"
    floor_url = f"{floor}/graphql"

    def subject_url(department: str, subject_id: str) -> str:
        return f"{registries[department]}/v1/subjects/{quote(subject_id, safe='')}"

    # Primers: the keep-alive connections (client to gateway, gateway to each registry, client to
    # each registry) and the gateway's parser and validation caches exist before anything counts.
    await timed(session, "POST", graphql, profile_payload(ids.primers[0]))
    await timed(session, "POST", floor_url, profile_payload(ids.primers[0]))
    for department in DEPARTMENTS:
        await timed(session, "GET", subject_url(department, ids.primers[1]))

    # The registries' own record caches are filled for every measured id, through their batch
    # endpoint (never through the gateway, whose cache stays cold). The four registries share one
    # process here, so four answers that each had to be built and encoded first would queue behind
    # one another: registry-side latency that a real department's own server does not share with
    # three others. Warmed, each registry only waits its latency, for the direct calls and for the
    # gateway's calls alike, so the comparison measures the gateway.
    measured = [*ids.gateway_cold, *ids.floor_cold, *ids.direct_each, *ids.direct_fanout]
    for department in DEPARTMENTS:
        for start in range(0, len(measured), 500):
            chunk = orjson.dumps({"ids": measured[start : start + 500]})
            status = (
                await timed(session, "POST", f"{registries[department]}/v1/subjects:batch", chunk)
            )[1]
            if status != 200:
                raise BenchError(f"{department} registry answered {status} to the warm-up batch")

    samples = ColdSamples()
    cpu_before = cpu_seconds(gateway_pid)
    for gateway_id, floor_id, direct_id, fanout_id in zip(
        ids.gateway_cold, ids.floor_cold, ids.direct_each, ids.direct_fanout, strict=True
    ):
        elapsed, status, body = await timed(session, "POST", graphql, profile_payload(gateway_id))
        sources = profile_sources(status, body, gateway_id)
        samples.gateway.append(elapsed)
        samples.gateway_upstream.append(max(float(s.get("latencyMs") or 0.0) for s in sources))
        samples.not_cold += any(s.get("fromCache") for s in sources) or len(sources) < len(
            DEPARTMENTS
        )
        samples.source_states.update(str(s.get("status")) for s in sources)

        slowest = 0.0
        for department in DEPARTMENTS:
            elapsed, status, body = await timed(session, "GET", subject_url(department, direct_id))
            if status != 200:
                raise BenchError(f"{department} registry answered {status} for {direct_id}")
            samples.direct[department].append(elapsed)
            slowest = max(slowest, elapsed)
        samples.direct_max.append(slowest)

        started = time.perf_counter()
        answers = await asyncio.gather(
            *(timed(session, "GET", subject_url(d, fanout_id)) for d in DEPARTMENTS)
        )
        samples.direct_fanout.append((time.perf_counter() - started) * 1000.0)
        if any(status != 200 for _, status, _ in answers):
            raise BenchError(f"a registry did not answer 200 for {fanout_id}")

        # Last, so that whatever the gateway does after answering (a garbage collection, say)
        # is long over: the floor shares the gateway's core.
        elapsed, status, body = await timed(session, "POST", floor_url, profile_payload(floor_id))
        floor_statuses(status, body, floor_id)
        samples.floor.append(elapsed)
    cpu_after = cpu_seconds(gateway_pid)
    if cpu_before is not None and cpu_after is not None:
        samples.gateway_cpu_s = cpu_after - cpu_before
    return samples


# ------------------------------------------------------------------------------- warm throughput


async def warm_cache(gateway: str, ids: Sequence[str], session: aiohttp.ClientSession) -> bytes:
    """Ask for each id once (filling the cache), then once more to check it is served from cache.

    Returns the response body of median size among the cached answers: the bytes the baseline
    serves, so that both servers send responses of the size the gateway really sends.
    """
    graphql = f"{gateway}/graphql"
    for subject_id in ids:
        _, status, body = await timed(session, "POST", graphql, profile_payload(subject_id))
        profile_sources(status, body, subject_id)
    bodies: list[bytes] = []
    for subject_id in ids:
        _, status, body = await timed(session, "POST", graphql, profile_payload(subject_id))
        sources = profile_sources(status, body, subject_id)
        if not all(source.get("fromCache") for source in sources):
            raise BenchError(f"a warm profile of {subject_id} was not served from the cache")
        bodies.append(body)
    bodies.sort(key=len)
    return bodies[len(bodies) // 2]


@dataclass(frozen=True, slots=True)
class LoadRun:
    """One fixed-duration run of the load generator against one server."""

    target: str
    round: int
    requests: int
    errors: int
    seconds: float
    server_cpu_s: float | None
    client_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000.0 / self.requests

    def as_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "rps": self.rps,
            "server_cpu_ms_per_request": self.server_cpu_ms_per_request,
            "server_core_share": None
            if self.server_cpu_s is None
            else self.server_cpu_s / self.seconds,
            "client_core_share": self.client_cpu_s / self.seconds,
        }


async def drive(
    target: str,
    round_no: int,
    url: str,
    payloads: Sequence[bytes],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    server_pid: int,
    headers: dict[str, str] | None = None,
) -> LoadRun:
    """`concurrency` keep-alive connections, each sending the next request as soon as the last
    answer is read, for `warmup_s` unmeasured then `duration_s` measured seconds.

    Answers completed inside the measured window count; an answer that is not 200, or that carries
    GraphQL errors, counts as an error (and not as a request).
    """
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = loop.time()
        window_start = start + warmup_s
        window_end = window_start + duration_s
        counted = 0
        errors = 0

        async def worker(offset: int) -> None:
            nonlocal counted, errors
            index = offset
            while loop.time() < window_end:
                payload = payloads[index % len(payloads)]
                index += concurrency
                async with session.post(
                    url, data=payload, headers=headers or JSON_HEADERS
                ) as response:
                    body = await response.read()
                    ok = response.status == 200 and b'"errors"' not in body
                done = loop.time()
                if window_start <= done < window_end:
                    if ok:
                        counted += 1
                    else:
                        errors += 1

        async def meter() -> tuple[float | None, float]:
            """Server and client CPU seconds spent inside the measured window."""
            await asyncio.sleep(max(0.0, window_start - loop.time()))
            server_before, client_before = cpu_seconds(server_pid), time.process_time()
            await asyncio.sleep(max(0.0, window_end - loop.time()))
            server_after, client_after = cpu_seconds(server_pid), time.process_time()
            server = (
                None
                if server_before is None or server_after is None
                else server_after - server_before
            )
            return server, client_after - client_before

        metered = asyncio.create_task(meter())
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        server_cpu, client_cpu = await metered
    return LoadRun(target, round_no, counted, errors, duration_s, server_cpu, client_cpu)


# ------------------------------------------------------------------------------------- the run


@dataclass
class Results:
    plan: Plan
    started: datetime
    machine: dict[str, Any]
    ids: SubjectIds
    registries: dict[str, str]
    cold: ColdSamples
    body_bytes: int
    runs: list[LoadRun]
    elapsed_s: float = 0.0
    placement: Placement | None = None


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on uvloop when installed (it comes with uvicorn[standard]).

    The load generator shares the two cores with the server, so the lighter its event loop, the
    less it takes from the server it measures.
    """
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(factory())


def client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=16),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other users of the shared cores show up here."""
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def machine_info() -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(affinity) if affinity is not None else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": load_average(),
        "packages": {
            name: version(name)
            for name in ("uvicorn", "starlette", "strawberry-graphql", "graphql-core", "aiohttp")
        },
    }


@contextlib.contextmanager
def running_on(cores: Collection[int] | None) -> Iterator[None]:
    """This process (the load generator) on `cores` only, for the duration of the block."""
    if not cores:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


Instrument = Callable[[str, list[str]], list[str]]
"""The command line a server (`gateway`, `floor`) is started with, given its name and own
command line: `bench.timeline` runs both under its probe."""


def _as_is(name: str, argv: list[str]) -> list[str]:
    return argv


_PYTHON_M = (sys.executable, "-m")


def run(plan: Plan, log: Callable[[str], None], instrument: Instrument = _as_is) -> Results:
    started_at = datetime.now().astimezone()
    started = time.monotonic()
    today = date.today()
    machine = machine_info()
    ids = pick_ids(plan, Dataset(size=plan.subjects, seed=plan.seed, today=today))
    log(f"picked {ids.total} subject ids ({ids.held_by_all} held by all four registries)")
    placement = Placement.split() if plan.pin else None
    servers = placement.server if placement else None
    rest = placement.rest if placement else None
    log(
        f"placement: {placement.describe()}"
        if placement
        else "placement: every process on every core (--no-pin, or a single core)"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp,
        ProcessGroup(Path(tmp)) as group,
        running_on(rest),
    ):
        registries = start_registries(group, plan, today, rest)
        log("registries listening: " + ", ".join(f"{d} {u}" for d, u in registries.items()))
        config = Path(tmp) / "gateway.toml"
        config.write_text(gateway_config(registries, plan), encoding="utf-8")
        gateway_process, gateway = start_uvicorn_server(
            group,
            "gateway",
            # Access control and audit taken out (bench/access_app.py): this benchmark measures
            # the fan-out and the cache; bench/access.py measures what those two add.
            instrument(
                "gateway",
                [*_PYTHON_M, "bench.access_app", "--config", str(config), "--mode", "off"],
            ),
            servers,
        )
        log(f"gateway listening: {gateway} (pid {gateway_process.pid})")
        floor_process, floor = start_uvicorn_server(
            group,
            "floor",
            instrument(
                "floor",
                [
                    *_PYTHON_M,
                    "bench.floor_app",
                    "--config",
                    str(config),
                    *(["--validate"] if plan.floor_validates else []),
                ],
            ),
            servers,
        )
        log(f"floor listening: {floor} (pid {floor_process.pid})")

        async def cold_phase() -> tuple[ColdSamples, bytes]:
            async with client_session() as session:
                cold = await measure_cold(
                    gateway, gateway_process.pid, floor, registries, ids, session
                )
                body = await warm_cache(gateway, ids.warm, session)
            return cold, body

        log(
            f"cold: {plan.cold_requests} iterations (gateway, 4 direct GETs, direct fan-out, floor)"
        )
        cold, body = run_async(cold_phase)
        floor_process.stop()

        body_file = Path(tmp) / "profile.json"
        body_file.write_bytes(body)
        baseline_process, baseline = start_uvicorn_server(
            group,
            "baseline",
            [
                sys.executable,
                "-m",
                "bench.baseline_app",
                "--body-file",
                str(body_file),
                "--media-type",
                "application/json",
                "--port",
                "0",
            ],
            servers,
        )
        log(f"baseline listening: {baseline} (pid {baseline_process.pid}), {len(body)} B body")

        payloads = [profile_payload(subject_id) for subject_id in ids.warm]
        targets = (
            ("baseline", f"{baseline}/graphql", baseline_process.pid),
            ("gateway", f"{gateway}/graphql", gateway_process.pid),
        )
        runs: list[LoadRun] = []
        for round_no in range(1, plan.rounds + 1):
            for target, url, pid in targets:
                result = run_async(
                    functools.partial(
                        drive,
                        target,
                        round_no,
                        url,
                        payloads,
                        plan.concurrency,
                        plan.warmup_s,
                        plan.duration_s,
                        pid,
                    )
                )
                runs.append(result)
                log(
                    f"warm round {round_no} {target:<8} {result.rps:8.0f} req/s"
                    f" ({result.requests} in {result.seconds:g} s, {result.errors} errors)"
                )
    return Results(
        plan=plan,
        started=started_at,
        machine={**machine, "load_average_at_end": load_average()},
        ids=ids,
        registries=registries,
        cold=cold,
        body_bytes=len(body),
        runs=runs,
        elapsed_s=time.monotonic() - started,
        placement=placement,
    )


# ------------------------------------------------------------------------------------- analysis


def analyse(results: Results) -> dict[str, Any]:
    """Every figure of the report, as the JSON document written to disk."""
    plan, cold = results.plan, results.cold
    gateway = summarise(cold.gateway)
    direct = {d: summarise(v) for d, v in cold.direct.items()}
    slowest: dict[str, dict[str, Any]] = {}
    for q in ("p50", "p99"):
        department = max(direct, key=lambda d: direct[d][q])
        slowest[q] = {"department": department, "ms": direct[department][q]}
    direct_max = summarise(cold.direct_max)
    fanout = summarise(cold.direct_fanout)
    upstream = summarise(cold.gateway_upstream)
    own = summarise([g - u for g, u in zip(cold.gateway, cold.gateway_upstream, strict=True)])
    floor = summarise(cold.floor)

    slowest_ms = {q: float(slowest[q]["ms"]) for q in ("p50", "p99")}

    def ratios(reference: dict[str, float], of: dict[str, float] = gateway) -> dict[str, float]:
        return {q: of[q] / reference[q] for q in ("p50", "p99")}

    def intervals(
        references: Sequence[Sequence[float]], pick: Pick = max
    ) -> dict[str, tuple[float, float]]:
        return {
            name: ratio_interval(cold.gateway, references, q, pick)
            for name, q in (("p50", 50.0), ("p99", 99.0))
        }

    # GOAL_REFERENCE: at each percentile, the faster of the two fan-outs without a gateway.
    fan_outs = {"sequential": direct_max, "concurrent": fanout}
    reference_from = {q: min(fan_outs, key=lambda name: fan_outs[name][q]) for q in ("p50", "p99")}
    reference = {q: fan_outs[name][q] for q, name in reference_from.items()}
    versus_goal = ratios(reference)
    interval = intervals([cold.direct_max, cold.direct_fanout], min)
    # The goal's allowance over its reference, and how the floor and the gateway's own work (its
    # latency over the floor's) share it, in milliseconds at each percentile.
    budget = {
        q: {
            "allowed_ms": (GOAL_COLD_RATIO - 1.0) * reference[q],
            "floor_ms": floor[q] - reference[q],
            "gateway_own_ms": gateway[q] - floor[q],
        }
        for q in ("p50", "p99")
    }
    nominal = {q: gateway[q] / plan.latency_ms for q in ("p50", "p99")} if plan.latency_ms else {}

    def median_rps(target: str) -> float:
        return statistics.median(r.rps for r in results.runs if r.target == target)

    def median_cpu(target: str) -> float | None:
        values = [r.server_cpu_ms_per_request for r in results.runs if r.target == target]
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    baseline_rps, gateway_rps = median_rps("baseline"), median_rps("gateway")
    baseline_cpu, gateway_cpu = median_cpu("baseline"), median_cpu("gateway")
    per_round = []
    for round_no in range(1, plan.rounds + 1):
        pair = {r.target: r.rps for r in results.runs if r.round == round_no}
        per_round.append(pair["gateway"] / pair["baseline"])
    return {
        "benchmark": "fanout",
        "mode": "quick" if plan.quick else "full",
        "started": results.started.isoformat(timespec="seconds"),
        "elapsed_s": round(results.elapsed_s, 1),
        "machine": results.machine,
        "placement": None
        if results.placement is None
        else {
            "server_cores": sorted(results.placement.server),
            "other_cores": sorted(results.placement.rest),
        },
        "plan": {
            k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(plan).items()
        },
        "subjects": {
            "distinct_ids": results.ids.total,
            "held_by_all_four": results.ids.held_by_all,
        },
        "cold": {
            "requests": len(cold.gateway),
            "gateway_ms": gateway,
            "gateway_slowest_upstream_ms": upstream,
            "gateway_own_ms": own,
            "floor_ms": floor,
            "floor_ratio_vs_goal_reference": ratios(reference, floor),
            "floor_ratio_vs_slowest_registry": ratios(slowest_ms, floor),
            "goal_budget": budget,
            "direct_registry_ms": direct,
            "slowest_registry": slowest,
            "direct_max_of_four_ms": direct_max,
            "direct_concurrent_fanout_ms": fanout,
            "goal_reference_ms": reference,
            "goal_reference_from": reference_from,
            "ratio_vs_nominal_latency": nominal,
            "ratio_vs_goal_reference": versus_goal,
            "ratio_vs_goal_reference_90pct_interval": interval,
            "ratio_vs_max_of_four": ratios(direct_max),
            "ratio_vs_slowest_registry": ratios(slowest_ms),
            "ratio_vs_slowest_registry_90pct_interval": intervals(list(cold.direct.values())),
            "ratio_vs_direct_fanout": ratios(fanout),
            "gateway_cpu_ms_per_request": None
            if cold.gateway_cpu_s is None
            else cold.gateway_cpu_s * 1000.0 / len(cold.gateway),
            "not_cold_requests": cold.not_cold,
            "source_states": dict(cold.source_states),
            "goal": {
                "max_ratio": GOAL_COLD_RATIO,
                "reference": GOAL_REFERENCE,
                "p50_met": versus_goal["p50"] <= GOAL_COLD_RATIO,
                "p99_met": versus_goal["p99"] <= GOAL_COLD_RATIO,
                # A quick run's 40 samples make its p99 the slowest answer or nearly: too few
                # for a verdict whatever its interval says.
                "p50_conclusive": not plan.quick
                and _conclusive(versus_goal["p50"], interval["p50"]),
                "p99_conclusive": not plan.quick
                and _conclusive(versus_goal["p99"], interval["p99"]),
            },
        },
        "warm": {
            "concurrency": plan.concurrency,
            "cached_ids": plan.warm_ids,
            "duration_s": plan.duration_s,
            "warmup_s": plan.warmup_s,
            "rounds": plan.rounds,
            "response_bytes": results.body_bytes,
            "runs": [r.as_dict() for r in results.runs],
            "baseline_rps_median": baseline_rps,
            "gateway_rps_median": gateway_rps,
            "gateway_fraction_of_baseline": gateway_rps / baseline_rps,
            "gateway_fraction_per_round": per_round,
            "server_cpu_ms_per_request_median": {"baseline": baseline_cpu, "gateway": gateway_cpu},
        },
    }


# --------------------------------------------------------------------------------------- report


def _x(value: float) -> str:
    return f"{value:.2f}x"


def report(figures: dict[str, Any]) -> str:
    cold, warm, machine = figures["cold"], figures["warm"], figures["machine"]
    plan, subjects, placement = figures["plan"], figures["subjects"], figures["placement"]
    goal = cold["goal"]
    # What the floor does, in the report's words (`--floor-validates` adds validation to it).
    validated = bool(plan["floor_validates"])
    floor_work = "validation only" if validated else "no gateway work"
    floor_row = "floor: the same 4 GETs, " + ("records validated" if validated else floor_work)
    floor_share = (
        "  taken by the floor (" + ("with validation" if validated else "stack, hop, fan-out") + ")"
    )

    def verdict(q: str) -> str:
        said = "met" if goal[f"{q}_met"] else "NOT met"
        if goal[f"{q}_conclusive"]:
            return said
        return f"{said}, not conclusively"

    def row(label: str, stats: dict[str, float]) -> str:
        return f"  {label:<44} {stats['p50']:8.2f} {stats['p99']:8.2f}"

    lines = [
        "",
        f"credit-gateway fan-out benchmark ({figures['mode']} run, {figures['started']}, "
        f"{figures['elapsed_s']:g} s)",
        f"  machine: {machine['cpus']} CPUs ({machine['cpus_usable']} usable), Python "
        f"{machine['python']}, load average at start "
        + ", ".join(f"{v:.2f}" for v in machine["load_average_at_start"] or [])
        + " (end "
        + ", ".join(f"{v:.2f}" for v in machine["load_average_at_end"] or [])
        + ")",
        "  placement: "
        + (
            f"gateway and baseline on core {', '.join(map(str, placement['server_cores']))}; "
            f"registries and load generator on {', '.join(map(str, placement['other_cores']))}"
            if placement
            else "every process on every core"
        ),
        f"  registries: {', '.join(DEPARTMENTS)} in one process, latency "
        f"{plan['latency_ms']:g} ms, jitter 0, {plan['subjects']} subjects, seed {plan['seed']}",
        "  gateway: credit-gateway serve, one uvicorn worker; "
        f"{subjects['distinct_ids']} distinct ids, "
        f"{subjects['held_by_all_four']} held by all four registries",
        "",
        f"1. Cold full profile: {cold['requests']} sequential requests, each for a subject never "
        "asked before",
        f"  {'latency (ms)':<44} {'p50':>8} {'p99':>8}",
        row("gateway, full profile (client-side)", cold["gateway_ms"]),
        *(row(f"direct GET, {d} registry", s) for d, s in cold["direct_registry_ms"].items()),
        row("slowest of the 4 direct GETs, per iteration", cold["direct_max_of_four_ms"]),
        row("4 concurrent direct GETs from this client", cold["direct_concurrent_fanout_ms"]),
        row("the faster of those two  <- goal's reference", cold["goal_reference_ms"])
        + f"   ({cold['goal_reference_from']['p50']}, {cold['goal_reference_from']['p99']})",
        f"  {'slowest registry at each percentile':<44} "
        f"{cold['slowest_registry']['p50']['ms']:8.2f} {cold['slowest_registry']['p99']['ms']:8.2f}"
        f"   ({cold['slowest_registry']['p50']['department']}, "
        f"{cold['slowest_registry']['p99']['department']})",
        row("gateway's own timing of its slowest fetch", cold["gateway_slowest_upstream_ms"]),
        row("gateway request minus that fetch", cold["gateway_own_ms"]),
        row(floor_row, cold["floor_ms"]),
        "",
        f"  {'gateway latency as a multiple of':<44} {'p50':>8} {'p99':>8}",
    ]
    if cold["ratio_vs_nominal_latency"]:
        lines.append(
            f"  {'nominal registry latency (' + format(plan['latency_ms'], 'g') + ' ms)':<44} "
            f"{_x(cold['ratio_vs_nominal_latency']['p50']):>8} "
            f"{_x(cold['ratio_vs_nominal_latency']['p99']):>8}"
        )
    for label, key in (
        ("the goal's reference  <- the goal", "ratio_vs_goal_reference"),
        ("  90% bootstrap interval", "ratio_vs_goal_reference_90pct_interval"),
        ("slowest of 4 direct GETs, per iteration", "ratio_vs_max_of_four"),
        ("4 concurrent direct GETs from this client", "ratio_vs_direct_fanout"),
        ("slowest registry at each percentile", "ratio_vs_slowest_registry"),
        ("  90% bootstrap interval", "ratio_vs_slowest_registry_90pct_interval"),
    ):
        if key.endswith("_interval"):
            (low50, high50), (low99, high99) = cold[key]["p50"], cold[key]["p99"]
            lines.append(f"  {label:<44} {low50:.2f}-{high50:.2f}x {low99:.2f}-{high99:.2f}x")
            continue
        lines.append(f"  {label:<44} {_x(cold[key]['p50']):>8} {_x(cold[key]['p99']):>8}")
    floor_ratio, budget = cold["floor_ratio_vs_goal_reference"], cold["goal_budget"]
    lines += [
        f"  {'floor / the goal reference (' + floor_work + ')':<44} "
        f"{_x(floor_ratio['p50']):>8} {_x(floor_ratio['p99']):>8}",
        f"  {'allowed over the goal reference (ms)':<44} "
        f"{budget['p50']['allowed_ms']:8.2f} {budget['p99']['allowed_ms']:8.2f}",
        f"  {floor_share:<44} {budget['p50']['floor_ms']:8.2f} {budget['p99']['floor_ms']:8.2f}",
        f"  {'  taken by the gateway (gateway - floor)':<44} "
        f"{budget['p50']['gateway_own_ms']:8.2f} {budget['p99']['gateway_own_ms']:8.2f}",
    ]
    lines += [
        f"  goal p50 and p99 <= {goal['max_ratio']}x the slowest registry of each profile: "
        f"p50 {verdict('p50')}, p99 {verdict('p99')} (the interval: what resampling this run's "
        "iterations gives; 'not conclusively' where it crosses the line, and in any --quick run; "
        "the machine's drift between runs adds to it)",
        "  (the slowest registry at each percentile, each registry's own p99, is not the goal's "
        "reference: a fan-out that added nothing would be over 1x against it at p99, by the "
        "registries' own tails; docs/performance.md, 'The goal's reference')",
    ]
    if cold["gateway_cpu_ms_per_request"] is not None:
        lines.append(
            f"  gateway CPU per cold request: {cold['gateway_cpu_ms_per_request']:.2f} ms "
            "(its own work: parse-cache hit, execution, 4 upstream calls, encoding)"
        )
    if cold["not_cold_requests"]:
        lines.append(f"  WARNING: {cold['not_cold_requests']} requests were not fully cold")
    states = ", ".join(f"{k} {v}" for k, v in sorted(cold["source_states"].items()))
    lines += [
        f"  sources rows: {states}",
        "",
        f"2. Warm full profile throughput: {warm['concurrency']} keep-alive connections, "
        f"{warm['cached_ids']} cached subjects, {warm['rounds']} rounds of "
        f"{warm['duration_s']:g} s (+{warm['warmup_s']:g} s unmeasured)",
        f"  the baseline answers the same {warm['response_bytes']} B response from a plain "
        "starlette route",
        f"  {'round':<6} {'target':<9} {'req/s':>9} {'errors':>7} {'server CPU':>11} "
        f"{'server':>7} {'client':>7}",
        f"  {'':<6} {'':<9} {'':>9} {'':>7} {'ms/request':>11} {'cores':>7} {'cores':>7}",
    ]
    for run in warm["runs"]:
        cpu = run["server_cpu_ms_per_request"]
        share = run["server_core_share"]
        lines.append(
            f"  {run['round']:<6} {run['target']:<9} {run['rps']:9.0f} {run['errors']:7d} "
            f"{'-' if cpu is None else format(cpu, '.3f'):>11} "
            f"{'-' if share is None else format(share, '.2f'):>7} {run['client_core_share']:7.2f}"
        )
    cpu = warm["server_cpu_ms_per_request_median"]
    lines += [
        f"  median req/s: baseline {warm['baseline_rps_median']:.0f}, gateway "
        f"{warm['gateway_rps_median']:.0f} -> gateway = {warm['gateway_fraction_of_baseline']:.3f}"
        " of the plain route (per round: "
        + ", ".join(f"{v:.3f}" for v in warm["gateway_fraction_per_round"])
        + ")",
    ]
    if cpu["baseline"] and cpu["gateway"]:
        lines.append(
            f"  server CPU per request: gateway {cpu['gateway']:.3f} ms, baseline "
            f"{cpu['baseline']:.3f} ms ({cpu['gateway'] / cpu['baseline']:.1f}x)"
        )
    lines += [
        "  note: the load generator runs in this process and competes with the server for the "
        f"{machine['cpus']} cores;",
        "        'cores' columns are CPU seconds per wall second (1.00 = one core fully busy).",
        "",
        "Summary (ratios measured in this run)",
        f"  {'metric':<46} {'value':>8}  goal",
        f"  {'cold p50 / slowest registry of each profile':<46} "
        f"{_x(cold['ratio_vs_goal_reference']['p50']):>8}  <= {goal['max_ratio']}x "
        f"{verdict('p50')}",
        f"  {'cold p99 / slowest registry of each profile':<46} "
        f"{_x(cold['ratio_vs_goal_reference']['p99']):>8}  <= {goal['max_ratio']}x "
        f"{verdict('p99')}",
        f"  {'cold p50 / p99, each registry own percentile':<46} "
        f"{_x(cold['ratio_vs_slowest_registry']['p50']):>8} / "
        f"{_x(cold['ratio_vs_slowest_registry']['p99'])}  (not the goal's reference)",
    ]
    if cold["ratio_vs_nominal_latency"]:
        lines += [
            f"  {'cold p50 / nominal ' + format(plan['latency_ms'], 'g') + ' ms':<46} "
            f"{_x(cold['ratio_vs_nominal_latency']['p50']):>8}",
            f"  {'cold p99 / nominal ' + format(plan['latency_ms'], 'g') + ' ms':<46} "
            f"{_x(cold['ratio_vs_nominal_latency']['p99']):>8}",
        ]
    lines += [
        f"  {'cold p50 / p99, the floor / the goal reference':<46} "
        f"{_x(floor_ratio['p50']):>8} / {_x(floor_ratio['p99'])}  ({floor_work})",
        f"  {'warm req/s, gateway / plain route (medians)':<46} "
        f"{warm['gateway_fraction_of_baseline']:8.3f}  (no goal set)",
        "",
    ]
    return "\n".join(lines)


def write_json(figures: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2) + b"\n")


def main(argv: Sequence[str] | None = None) -> int:
    plan = parse_args(argv)

    def body(log: Callable[[str], None]) -> int:
        try:
            results = run(plan, log)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise BenchError(f"a server stopped answering: {exc!r}") from exc
        figures = analyse(results)
        write_json(figures, plan.output)
        print(report(figures))
        log(f"figures written to {plan.output}")
        return 0

    return run_benchmark("fanout", body, (BenchError, StartError))


if __name__ == "__main__":
    raise SystemExit(main())
