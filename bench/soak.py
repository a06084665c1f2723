"""Soak benchmark: minutes of mixed load at fixed concurrency while registries flip between faults.

What it answers: does the gateway, as shipped, stay up and correct under a long mixed load while
its registries misbehave one after another? Correct means: every request answered (with the
status and error codes the contract gives to each case), memory and open file descriptors flat
once the caches are full (they are bounded, so nothing else may grow), and the audit holding
exactly one verified entry per subject lookup answered.

Everything runs on loopback in subprocesses this module starts and always stops:

* the four reference registries in one process (environment, quality, health, commerce), with a
  baseline of 5 ms latency plus up to 10 ms jitter;
* the gateway as a deployment runs it: ``credit-gateway serve --config`` with verified tokens
  (`[auth] dev_secret`, HS256), the shipped policy and catalogue, access control on, and the audit
  in a SQLite file of a temporary directory; connectors time out after 2 s, caches hold
  `--cache-entries` records per department for 15 s, then serve them stale for 2 minutes when a
  registry fails.

Then: a warm-up that fills every cache to its bound (batch queries), the load (`--concurrency`
client connections, each sending its next request when the last is answered; the mix is in
bench/soak_mix.py), a fault schedule (bench/soak_faults.py) switching one registry at a time to
down / hanging / 500 / slow / flapping / garbage and back to healthy, the gateway's RSS and open
FDs sampled every second from /proc, SIGTERM to the gateway (its graceful shutdown is timed), and
the audit file read back and reconciled request by request (bench/soak_ledger.py).

    .venv/bin/python -m bench.soak --quick     # a smoke run (~30 s of load, ~1 minute in all)
    .venv/bin/python -m bench.soak             # the soak (4 minutes of load)

The figures are printed and written as JSON to ``var/bench/soak.json`` (``soak-quick.json`` for
``--quick``, so a smoke run never overwrites the figures of a full one). The exit status is 0 when
the audit reconciles, FDs (and, for loads of two minutes or more, RSS) stay flat and the gateway
stopped cleanly, else 1. Source states the gateway
reports are counted as they come (a `CIRCUIT_OPEN` shows up once the gateway has a breaker), and
so are error codes: the soak depends on the contract, not on how the gateway implements it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import random
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.fanout import (
    DEPARTMENTS,
    load_average,
    machine_info,
    percentile,
    run_async,
    start_uvicorn_server,
    write_json,
)
from bench.harness import (
    PROJECT_ROOT,
    ManagedProcess,
    ProcessGroup,
    StartError,
    console_script,
    cpu_seconds,
    fd_kinds,
    open_fds,
    rss_bytes,
    run_benchmark,
    start_reference_registries,
)
from bench.soak_faults import StepRun, put_faults, run_schedule
from bench.soak_ledger import AuditTally, Ledger, reconcile
from bench.soak_mix import KINDS, SECRET, Call, Mix, mint_tokens
from gateway.audit import AuditStoreError, open_store, verify
from gateway.settings import Settings
from registries.dataset import Dataset

START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
"""The client's patience with one request: far above the gateway's own bound (2 s connector
timeouts), so an unanswered request means the gateway failed to answer, not a slow answer."""
SAMPLE_EVERY_S = 1.0
SETTLE_S = 2.0
"""Pause between the end of the load (client connections closed) and the end sample."""
WARM_BATCH = 100
CONNECTOR_TIMEOUT_S = 2.0
CACHE_TTL_S = 15.0
STALE_TTL_S = 120.0
RSS_TOLERANCE = (16 * 2**20, 0.05)
"""Growth over the second half of the load beyond both 16 MiB and 5% of RSS is called growth."""
RSS_JUDGED_AFTER_S = 120.0
"""A shorter load is too short to call RSS flat or growing: `credit-gateway serve` tunes the
garbage collector to collect the oldest generation rarely (gateway/cli.py), so under this load
cyclic garbage (exceptions and their frames, above all while registries fail) piles up for a
minute or so before a full collection lets its memory be reused; RSS rises in steps until then."""
FD_TOLERANCE = 2
"""At the end, load over and the client's connections closed, the gateway's FDs other than its
connections to registries (a pool, bounded by `[http]`, kept idle for `keepalive_timeout_s`) may
exceed those after the warm-up by this many; and no client connection may be left."""


class SoakError(RuntimeError):
    """The soak cannot produce meaningful figures (a server failed, the setup was refused)."""


@dataclass(frozen=True, slots=True)
class Plan:
    quick: bool
    duration_s: float
    concurrency: int
    step_s: float
    subjects: int
    pool: int
    cache_entries: int
    seed: int
    rate_limits: bool
    output: Path


def parse_args(argv: Sequence[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Soak credit-gateway: mixed load at fixed concurrency while the registries "
        "flip between faults; reports statuses, latency, RSS and FDs, and reconciles the audit.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 30 s of load")
    parser.add_argument("--duration", type=float, help="seconds of load (240; quick 30)")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections (32)")
    parser.add_argument("--step", type=float, help="seconds per fault step (10; quick 2.5)")
    parser.add_argument("--subjects", type=int, default=20_000, help="dataset size (20000)")
    parser.add_argument("--pool", type=int, help="distinct subjects asked for (6000; quick 3000)")
    parser.add_argument(
        "--cache-entries", type=int, help="records cached per department (2000; quick 1000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="dataset and load seed (42)")
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="keep the shipped [rate_limits] (by default off: one loopback client would hit them)",
    )
    parser.add_argument("--output", type=Path, help="JSON file (var/bench/soak[-quick].json)")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    plan = Plan(
        quick=quick,
        duration_s=args.duration or (30.0 if quick else 240.0),
        concurrency=args.concurrency,
        step_s=args.step or (2.5 if quick else 10.0),
        subjects=args.subjects,
        pool=args.pool or (3000 if quick else 6000),
        cache_entries=args.cache_entries or (1000 if quick else 2000),
        seed=args.seed,
        rate_limits=bool(args.rate_limits),
        output=args.output
        or PROJECT_ROOT / "var" / "bench" / ("soak-quick.json" if quick else "soak.json"),
    )
    if plan.duration_s <= 0 or plan.step_s <= 0:
        parser.error("--duration and --step must be positive")
    if plan.concurrency < 1 or plan.cache_entries < 1:
        parser.error("--concurrency and --cache-entries must be at least 1")
    if not plan.cache_entries <= plan.pool <= plan.subjects:
        parser.error("need --cache-entries <= --pool <= --subjects")
    return plan


# ------------------------------------------------------------------------------------ processes


def start_registries(group: ProcessGroup, plan: Plan, today: date) -> dict[str, str]:
    return start_reference_registries(
        group,
        DEPARTMENTS,
        subjects=plan.subjects,
        seed=plan.seed,
        extra_args=("--today", today.isoformat()),
        timeout_s=START_TIMEOUT_S,
    )


def gateway_config(registries: dict[str, str], plan: Plan, audit_db: Path) -> str:
    """The product's config with nothing switched off: `[server]` limits at their defaults."""
    lines = [
        "[server]",
        'host = "127.0.0.1"',
        "port = 0",
        "",
        "[auth]",
        f'dev_secret = "{SECRET}"',
        "",
        "[audit]",
        f'url = "sqlite:///{audit_db}"',
    ]
    if not plan.rate_limits and rate_limits_switch():
        lines += ["", "[rate_limits]", "enabled = false"]
    for department, url in registries.items():
        lines += [
            "",
            f"[connectors.{department}]",
            f'base_url = "{url}"',
            f"timeout_s = {CONNECTOR_TIMEOUT_S}",
            f"cache_ttl_s = {CACHE_TTL_S}",
            f"stale_ttl_s = {STALE_TTL_S}",
            f"cache_max_entries = {plan.cache_entries}",
        ]
    return "\n".join(lines) + "\n"


def rate_limits_switch() -> bool:
    """Whether this build's config has `[rate_limits] enabled` (looked up, not assumed: the soak
    must run against builds with and without request rate limits).

    The soak's clients all come from one loopback address and a handful of principals, standing
    for the many offices a real gateway serves; per-address and per-principal limits sized for
    real traffic would refuse most of its requests, and the soak would measure the 429 path. So
    they are off unless `--rate-limits` asks for the shipped defaults.
    """
    section = Settings.model_fields.get("rate_limits")
    model = section.annotation if section is not None else None
    fields = getattr(model, "model_fields", {})
    return "enabled" in fields


def stop_gateway(process: ManagedProcess, timeout_s: float = 60.0) -> dict[str, Any]:
    """SIGTERM, as an orchestrator stops it; how long the graceful shutdown took, and its exit."""
    started = time.monotonic()
    process.popen.send_signal(signal.SIGTERM)
    try:
        code: int | None = process.popen.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        process.popen.wait()
        code = None
    return {
        "exit_code": code,
        "seconds": round(time.monotonic() - started, 2),
        "cut_requests_logged": "graceful shutdown exceeded" in process.log_text(),
    }


# ----------------------------------------------------------------------------------------- load


@dataclass
class ProcessSample:
    label: str
    at_s: float
    rss_mb: float | None
    fds: int | None
    fd_kinds: dict[str, int] | None


@dataclass(frozen=True, slots=True)
class Target:
    """The gateway process under load, and what tells its sockets apart."""

    pid: int
    port: int
    registry_ports: frozenset[int]

    def probe(self, label: str, at_s: float) -> ProcessSample:
        rss = rss_bytes(self.pid)
        return ProcessSample(
            label,
            round(at_s, 2),
            None if rss is None else round(rss / 2**20, 1),
            open_fds(self.pid),
            fd_kinds(self.pid, self.port, self.registry_ports),
        )


@dataclass
class StepTracker:
    """The fault step now in force, as the schedule sets it and the workers read it."""

    index: int = -1


@dataclass
class LoadResults:
    warm: Ledger
    load: Ledger
    steps: list[StepRun]
    samples: list[ProcessSample]
    marks: dict[str, ProcessSample]
    load_seconds: float
    gateway_cpu_s: float | None
    client_cpu_s: float
    sent: Counter[str] = field(default_factory=Counter)


async def send(
    session: aiohttp.ClientSession,
    url: str,
    ledger: Ledger,
    request_id: str,
    call: Call,
    clock: Callable[[], float],
    origin: float,
    step: int,
) -> None:
    started = clock()
    try:
        async with session.post(
            url, data=call.payload, headers={**call.headers, "x-request-id": request_id}
        ) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        ledger.failed(request_id, call, type(exc).__name__)
        return
    latency_ms = (clock() - started) * 1000.0
    ledger.record(request_id, call, status, body, started - origin, latency_ms, step)


async def warm_up(
    session: aiohttp.ClientSession, url: str, mix: Mix, pool: Sequence[str], ledger: Ledger
) -> None:
    """Ask for as many distinct subjects as a cache holds: every department's cache is then at
    its bound (records and "not found" answers are both cached), so growth after this is not the
    caches filling."""
    loop = asyncio.get_running_loop()
    for start in range(0, len(pool), WARM_BATCH):
        ids = list(pool[start : start + WARM_BATCH])
        call = mix.batch("warm_up", ids)
        await send(session, url, ledger, f"warm-{start}", call, loop.time, loop.time(), -1)
    if ledger.unanswered or set(ledger.statuses) != {200}:
        raise SoakError(f"the warm-up failed: statuses {dict(ledger.statuses)}")


async def soak(
    plan: Plan,
    base: str,
    registries: dict[str, str],
    target: Target,
    mix: Mix,
    pool: Sequence[str],
    log: Callable[[str], None],
) -> LoadResults:
    loop = asyncio.get_running_loop()
    url = f"{base}/graphql"
    pid = target.pid
    marks: dict[str, ProcessSample] = {"idle": target.probe("idle", 0.0)}
    warm, load = Ledger(), Ledger()
    connector = aiohttp.TCPConnector(limit=plan.concurrency + 8)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(put_faults(session, r, {}) for r in registries.values()))
        log(f"warm-up: {len(pool[: plan.cache_entries])} subjects in batches of {WARM_BATCH}")
        await warm_up(session, url, mix, pool[: plan.cache_entries], warm)
        marks["start"] = target.probe("start", 0.0)
        tracker = StepTracker()
        origin = loop.time()
        stop_at = origin + plan.duration_s
        samples: list[ProcessSample] = []
        sent: Counter[str] = Counter()

        async def sampler() -> None:
            while loop.time() < stop_at:
                samples.append(target.probe("load", loop.time() - origin))
                await asyncio.sleep(SAMPLE_EVERY_S)

        async def worker(number: int) -> None:
            rng = random.Random(plan.seed * 1000 + number)
            count = 0
            while loop.time() < stop_at:
                call = mix.draw(rng)
                sent[call.kind] += 1
                count += 1
                await send(
                    session,
                    url,
                    load,
                    f"soak-{number}-{count}",
                    call,
                    loop.time,
                    origin,
                    tracker.index,
                )

        def on_step(index: int) -> None:
            tracker.index = index

        log(
            f"load: {plan.concurrency} connections for {plan.duration_s:g} s, "
            f"fault steps of {plan.step_s:g} s"
        )
        gateway_cpu = cpu_seconds(pid)
        client_cpu = time.process_time()
        schedule = asyncio.create_task(
            run_schedule(session, registries, plan.step_s, loop.time, stop_at, log, on_step)
        )
        metered = asyncio.create_task(sampler())
        await asyncio.gather(*(worker(n) for n in range(plan.concurrency)))
        load_seconds = loop.time() - origin
        steps = await schedule
        await metered
        gateway_cpu_after = cpu_seconds(pid)
        client_cpu = time.process_time() - client_cpu
    await asyncio.sleep(SETTLE_S)
    marks["end"] = target.probe("end", loop.time() - origin)
    if samples:
        middle = min(samples, key=lambda s: abs(s.at_s - plan.duration_s / 2))
        marks["middle"] = dataclasses.replace(middle, label="middle")
    return LoadResults(
        warm=warm,
        load=load,
        steps=steps,
        samples=samples,
        marks=marks,
        load_seconds=load_seconds,
        gateway_cpu_s=None
        if gateway_cpu is None or gateway_cpu_after is None
        else gateway_cpu_after - gateway_cpu,
        client_cpu_s=client_cpu,
        sent=sent,
    )


async def read_audit(path: Path) -> AuditTally:
    """Verify the chain, then read every entry's request id and subject."""
    async with open_store(f"sqlite:///{path}", create=False) as store:
        report = await verify(store)
        by_request: dict[str, Counter[str]] = {}
        outcomes: Counter[str] = Counter()
        entries = 0
        try:
            async for entry in store.iter_entries():
                entries += 1
                by_request.setdefault(entry.request_id, Counter())[entry.subject] += 1
                outcomes[entry.outcome.value] += 1
        except AuditStoreError as exc:
            outcomes[f"(unreadable row: {exc})"] += 1
    return AuditTally(
        entries=entries,
        verified=report.ok,
        verified_count=report.count,
        head_seq=report.head.seq,
        broken=None if report.broken is None else report.describe(),
        subjects_by_request=by_request,
        outcomes=outcomes,
    )


@dataclass
class Results:
    plan: Plan
    started: datetime
    machine: dict[str, Any]
    load: LoadResults
    shutdown: dict[str, Any]
    audit: dict[str, Any]
    elapsed_s: float


def run(plan: Plan, log: Callable[[str], None]) -> Results:
    started_at = datetime.now().astimezone()
    started = time.monotonic()
    machine = machine_info()
    today = date.today()
    dataset = Dataset(size=plan.subjects, seed=plan.seed, today=today)
    # Spread over the dataset, in a shuffled order, so the hot head is not one kind of subject.
    pool = [dataset.subject(index).id for index in range(plan.pool)]
    random.Random(plan.seed).shuffle(pool)
    mix = Mix(pool, mint_tokens(hours=2 + plan.duration_s / 3600))
    with (
        tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp,
        ProcessGroup(Path(tmp)) as group,
    ):
        registries = start_registries(group, plan, today)
        log("registries listening: " + ", ".join(f"{d} {u}" for d, u in registries.items()))
        audit_db = Path(tmp) / "audit.db"
        config = Path(tmp) / "gateway.toml"
        config.write_text(gateway_config(registries, plan, audit_db), encoding="utf-8")
        gateway, base = start_uvicorn_server(
            group, "gateway", [*console_script("credit-gateway"), "serve", "--config", str(config)]
        )
        log(f"gateway listening: {base} (pid {gateway.pid})")
        target = Target(
            gateway.pid,
            int(base.rsplit(":", 1)[1]),
            frozenset(int(url.rsplit(":", 1)[1]) for url in registries.values()),
        )
        load = run_async(functools.partial(soak, plan, base, registries, target, mix, pool, log))
        shutdown = stop_gateway(gateway)
        log(f"gateway stopped (SIGTERM): exit {shutdown['exit_code']} in {shutdown['seconds']} s")
        tally = asyncio.run(read_audit(audit_db))
    return Results(
        plan=plan,
        started=started_at,
        machine={**machine, "load_average_at_end": load_average()},
        load=load,
        shutdown=shutdown,
        audit=reconcile((load.warm, load.load), tally),
        elapsed_s=time.monotonic() - started,
    )


# ------------------------------------------------------------------------------------- analysis


def latency(values: Sequence[float]) -> dict[str, float | int] | None:
    if not values:
        return None
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def memory_checks(marks: dict[str, ProcessSample], load_seconds: float) -> dict[str, Any]:
    """Flat once the caches are full: the second half of the load may not grow RSS beyond the
    tolerance; at the end, FDs other than pooled registry connections may not exceed those after
    the warm-up beyond theirs, and every client connection must be closed."""

    def rss(name: str) -> float | None:
        mark = marks.get(name)
        return None if mark is None else mark.rss_mb

    def kinds(name: str) -> dict[str, int] | None:
        mark = marks.get(name)
        return None if mark is None else mark.fd_kinds

    checks: dict[str, Any] = {}
    start, middle, end = rss("start"), rss("middle"), rss("end")
    if start is not None and middle is not None and end is not None:
        allowed = max(RSS_TOLERANCE[0] / 2**20, RSS_TOLERANCE[1] * middle)
        judged = load_seconds >= RSS_JUDGED_AFTER_S
        checks["rss"] = {
            "start_to_end_mb": round(end - start, 1),
            "middle_to_end_mb": round(end - middle, 1),
            "allowed_middle_to_end_mb": round(allowed, 1),
            "flat": end - middle <= allowed if judged else None,
        }
    kinds_start, kinds_end = kinds("start"), kinds("end")
    if kinds_start is not None and kinds_end is not None:

        def own(fd_kinds: dict[str, int]) -> int:
            """FDs that no pool is entitled to keep: files, pipes, epoll, stray sockets."""
            return sum(fd_kinds[k] for k in ("files", "other", "other_sockets", "listening"))

        growth = own(kinds_end) - own(kinds_start)
        checks["fds"] = {
            "own_start_to_end": growth,
            "allowed": FD_TOLERANCE,
            "client_connections_at_end": kinds_end["clients"],
            "upstream_connections_at_end": kinds_end["upstreams"],
            "flat": growth <= FD_TOLERANCE and kinds_end["clients"] == 0,
        }
    return checks


def analyse(results: Results) -> dict[str, Any]:
    plan, load = results.plan, results.load
    ledger = load.load
    answered = [s.latency_ms for s in ledger.samples]
    by_kind = {
        kind: latency([s.latency_ms for s in ledger.samples if s.kind == kind]) for kind, _ in KINDS
    }
    steps = []
    for step in load.steps:
        values = [s.latency_ms for s in ledger.samples if s.step == step.index]
        rows = ledger.source_states_by_step.get(step.index, Counter())
        department = step.department
        faulted = (
            {state: n for (d, state), n in rows.most_common() if d == department}
            if department
            else {}
        )
        steps.append(
            {
                "index": step.index,
                "label": step.label,
                "department": department,
                "started_s": round(step.started_s, 2),
                "seconds": round(step.ended_s - step.started_s, 2),
                "requests": len(values),
                "latency_ms": latency(values),
                "faulted_department_states": faulted,
            }
        )
    rss = [s.rss_mb for s in load.samples if s.rss_mb is not None]
    fds = [s.fds for s in load.samples if s.fds is not None]
    served = len(ledger.answered)
    gateway_cpu = load.gateway_cpu_s
    return {
        "benchmark": "soak",
        "mode": "quick" if plan.quick else "full",
        "started": results.started.isoformat(timespec="seconds"),
        "elapsed_s": round(results.elapsed_s, 1),
        "machine": results.machine,
        "plan": {
            k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(plan).items()
        },
        "gateway": {
            "connector_timeout_s": CONNECTOR_TIMEOUT_S,
            "cache_ttl_s": CACHE_TTL_S,
            "stale_ttl_s": STALE_TTL_S,
            "cache_max_entries": plan.cache_entries,
            "server": "defaults of [server] (limit_concurrency, graceful_shutdown_s, ...)",
            "rate_limits": "shipped defaults"
            if plan.rate_limits or not rate_limits_switch()
            else "off ([rate_limits] enabled = false)",
        },
        "mix_weights": dict(KINDS),
        "requests": {
            "sent": sum(load.sent.values()),
            "served": served,
            "unanswered": len(ledger.unanswered),
            "per_second": round(served / load.load_seconds, 1),
            "load_seconds": round(load.load_seconds, 2),
            "by_kind": dict(load.sent.most_common()),
            "http_statuses": {str(k): v for k, v in sorted(ledger.statuses.items())},
            "http_statuses_by_kind": {
                kind: {str(k): v for k, v in sorted(c.items())}
                for kind, c in ledger.statuses_by_kind.items()
            },
            "error_codes": dict(ledger.error_codes.most_common()),
            "client_failures": dict(ledger.client_failures.most_common()),
            "source_states": dict(ledger.source_states.most_common()),
            "source_states_by_department": {
                d: dict(c.most_common())
                for d, c in sorted(ledger.source_states_by_department.items())
            },
            "warm_up_requests": len(load.warm.answered),
        },
        "latency_ms": {"all": latency(answered), "by_kind": by_kind},
        "fault_steps": steps,
        "gateway_process": {
            "marks": {k: dataclasses.asdict(v) for k, v in load.marks.items()},
            "rss_mb_during_load": {"min": min(rss), "max": max(rss)} if rss else None,
            "fds_during_load": {"min": min(fds), "max": max(fds)} if fds else None,
            "samples": [dataclasses.asdict(s) for s in load.samples],
            "checks": memory_checks(load.marks, load.load_seconds),
            "cpu_seconds_during_load": None if gateway_cpu is None else round(gateway_cpu, 2),
            "cpu_ms_per_request": None
            if gateway_cpu is None or not served
            else round(gateway_cpu * 1000 / served, 3),
            "client_cpu_seconds": round(load.client_cpu_s, 2),
        },
        "shutdown": results.shutdown,
        "audit": results.audit,
    }


# --------------------------------------------------------------------------------------- report


def _counts(counter: dict[str, int], total: int | None = None) -> str:
    if not counter:
        return "none"
    if total:
        return ", ".join(f"{k} {v} ({100 * v / total:.1f}%)" for k, v in counter.items())
    return ", ".join(f"{k} {v}" for k, v in counter.items())


def _ms(stats: dict[str, Any] | None) -> str:
    if stats is None:
        return f"{'-':>8} {'-':>8} {'-':>8}"
    return f"{stats['p50']:8.1f} {stats['p99']:8.1f} {stats['max']:8.1f}"


def report(f: dict[str, Any]) -> str:
    plan, requests, process = f["plan"], f["requests"], f["gateway_process"]
    audit, shutdown, machine = f["audit"], f["shutdown"], f["machine"]
    marks = process["marks"]
    lines = [
        "",
        f"credit-gateway soak ({f['mode']} run, {f['started']}, {f['elapsed_s']:g} s in all)",
        f"  machine: {machine['cpus']} CPUs, Python {machine['python']}, load average at start "
        + ", ".join(f"{v:.2f}" for v in machine["load_average_at_start"] or []),
        f"  load: {plan['concurrency']} connections for {requests['load_seconds']:g} s; "
        f"fault steps of {plan['step_s']:g} s; {plan['pool']} distinct subjects (skewed), "
        f"caches {plan['cache_entries']} records per department",
        f"  gateway: credit-gateway serve, tokens verified, access control on, SQLite audit; "
        f"rate limits {f['gateway']['rate_limits']}",
        "",
        f"Requests: {requests['served']} served ({requests['per_second']:g}/s), "
        f"{requests['unanswered']} unanswered, plus {requests['warm_up_requests']} warm-up",
        f"  by kind: {_counts(requests['by_kind'])}",
        f"  HTTP statuses: {_counts(requests['http_statuses'], requests['served'])}",
        f"  error codes: {_counts(requests['error_codes'])}",
        f"  sources rows: {_counts(requests['source_states'])}",
    ]
    if requests["client_failures"]:
        lines.append(f"  client failures: {_counts(requests['client_failures'])}")
    lines += [
        "",
        f"  {'latency (ms)':<34} {'p50':>8} {'p99':>8} {'max':>8} {'n':>7}",
        f"  {'all answered requests':<34} {_ms(f['latency_ms']['all'])} "
        f"{(f['latency_ms']['all'] or {}).get('n', 0):7d}",
    ]
    for kind, stats in f["latency_ms"]["by_kind"].items():
        lines.append(f"  {kind:<34} {_ms(stats)} {(stats or {}).get('n', 0):7d}")
    lines += ["", "Fault steps (latency ms of requests started in the step)"]
    lines.append(f"  {'step':<40} {'p50':>8} {'p99':>8} {'max':>8} {'n':>6}  faulted source")
    for step in f["fault_steps"]:
        label = f"{step['index'] + 1:>2}. {step['label']}"
        states = ", ".join(f"{k} {v}" for k, v in step["faulted_department_states"].items())
        lines.append(
            f"  {label:<40} {_ms(step['latency_ms'])} {step['requests']:6d}  {states or '-'}"
        )

    def mark(name: str) -> str:
        m = marks.get(name)
        if not m or m["rss_mb"] is None:
            return f"{name} -"
        return f"{name} {m['rss_mb']:.1f} MiB / {m['fds']} FDs"

    checks = process["checks"]
    lines += [
        "",
        "Gateway process (RSS / open FDs; start = after the warm-up filled the caches)",
        "  " + ", ".join(mark(n) for n in ("idle", "start", "middle", "end")),
    ]
    if process["rss_mb_during_load"]:
        lines.append(
            f"  during the load: RSS {process['rss_mb_during_load']['min']:.1f}-"
            f"{process['rss_mb_during_load']['max']:.1f} MiB, FDs "
            f"{process['fds_during_load']['min']}-{process['fds_during_load']['max']}"
        )
    if "rss" in checks:
        rss = checks["rss"]
        lines.append(
            f"  RSS growth: start->end {rss['start_to_end_mb']:+.1f} MiB, middle->end "
            f"{rss['middle_to_end_mb']:+.1f} MiB (allowed {rss['allowed_middle_to_end_mb']:.1f}): "
            + {True: "flat", False: "GROWING"}.get(
                rss["flat"], f"not judged (a load under {RSS_JUDGED_AFTER_S:g} s)"
            )
        )
    for name in ("start", "end"):
        m = marks.get(name)
        if m and m["fd_kinds"]:
            lines.append(
                f"  FDs at {name}: " + ", ".join(f"{k} {v}" for k, v in m["fd_kinds"].items())
            )
    if "fds" in checks:
        fd = checks["fds"]
        lines.append(
            f"  FDs other than connections, start->end {fd['own_start_to_end']:+d} "
            f"(allowed +{fd['allowed']}); client connections left at end "
            f"{fd['client_connections_at_end']}; pooled registry connections at end "
            f"{fd['upstream_connections_at_end']}: " + ("flat" if fd["flat"] else "GROWING")
        )
    if process["cpu_ms_per_request"] is not None:
        lines.append(
            f"  gateway CPU: {process['cpu_seconds_during_load']} s during the load, "
            f"{process['cpu_ms_per_request']} ms per request served"
        )
    lines += [
        "",
        f"Shutdown: SIGTERM -> exit {shutdown['exit_code']} in {shutdown['seconds']} s"
        + (" (requests were cut)" if shutdown["cut_requests_logged"] else ""),
        "",
        f"Audit: {audit['entries']} entries, chain "
        + ("verified" if audit["chain_verified"] else f"BROKEN: {audit['broken']}")
        + f" ({audit['verified_entries']} verified, head seq {audit['head_seq']})",
        f"  lookups answered {audit['lookups_answered']} (in 200 answers "
        f"{audit['lookups_in_200_answers']}); answered requests whose entries match exactly "
        f"{audit['answered_requests_matching']}/{audit['answered_requests']}",
        f"  entries of unanswered requests {audit['entries_of_unanswered_requests']} "
        f"(of {audit['unanswered_requests']}), of unknown requests "
        f"{audit['entries_of_unknown_requests']}",
        f"  outcomes: {_counts(audit['outcomes'])}",
        "  one verified entry per lookup answered: " + ("YES" if audit["ok"] else "NO"),
    ]
    for example in audit["mismatch_examples"]:
        lines.append(f"    mismatch: {example}")
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    plan = parse_args(argv)

    def body(log: Callable[[str], None]) -> int:
        figures = analyse(run(plan, log))
        write_json(figures, plan.output)
        print(report(figures))
        log(f"figures written to {plan.output}")
        audit_ok = figures["audit"]["ok"]
        checks = figures["gateway_process"]["checks"].values()
        flat = all(check["flat"] is not False for check in checks)
        clean_stop = figures["shutdown"]["exit_code"] == 0
        return 0 if audit_ok and flat and clean_stop else 1

    return run_benchmark("soak", body, (SoakError, StartError, RuntimeError))


if __name__ == "__main__":
    raise SystemExit(main())
