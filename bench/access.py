"""Warm full-profile throughput with access control and audit on, as a fraction of both off.

Run as `python -m bench.access` (`--quick` for a smoke check). Both gateways serve the same
registries from one run, with every profile cached, so what differs is only: verifying the bearer
token, the access plan and purpose check, and committing one audit entry per lookup to SQLite
(group commit). They are driven in alternation (off, on, off, on, ...) with the same requests, and
the ratios compared. The issue's goal: at least 0.85.

The two cores are shared, and what one request costs on them drifts by up to 2x within seconds
(measured: the same gateway at 0.8 and 1.7 ms of CPU per request in consecutive slices). So the
gateways are compared in many short rounds: each round drives them back to back for a short
slice each (in the order off-on, then on-off in the next round, so a steady drift favours
neither), and the headline figure is the median of the rounds' own on/off ratios, with the
quartiles of those ratios beside it; the ratio of the two medians is reported too. Many short
rounds pair slices that see nearly the same machine, where a few long ones each average over a
different stretch of drift.

`--side-by-side` drives every gateway at the same time instead, each with its own connections:
they then share every moment of the machine's drift, so the ratio of their CPU per request is
the steadiest measure of what access control and the audit cost. Their throughputs are not the
benchmark's figure (the gateways take the cores from each other, and one whose answers wait for
a commit gives its share to the others).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.fanout import (
    DEPARTMENTS,
    JSON_HEADERS,
    LoadRun,
    Plan,
    drive,
    gateway_config,
    pick_ids,
    run_async,
    start_registries,
    start_uvicorn_server,
    write_json,
)
from bench.harness import PROJECT_ROOT, ProcessGroup
from gateway.auth_settings import AuthSettings
from gateway.tokens import mint_dev_token
from registries.dataset import Dataset
from schema.examples import PROFILE_QUERY

GOAL = 0.85
SECRET = "benchmark-only-signing-key-0123456789"
MATTER = "CO-JOINT-REVIEW"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.access", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts, a smoke check")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warm-ids", type=int, default=50)
    parser.add_argument(
        "--duration", type=float, default=None, help="measured seconds per slice (1.5; quick 1)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="off+on rounds (30; quick 6)")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also run a third gateway with access control on and the audit off",
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="drive the gateways at the same time (the CPU cost ratio), not one after another",
    )
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    duration = args.duration or (1.0 if args.quick else 1.5)
    rounds = args.rounds or (6 if args.quick else 30)
    warmup = 0.3  # every connection is open and every cache warm before the first slice
    output = args.output or PROJECT_ROOT / "var" / "bench" / (
        "access-quick.json" if args.quick else "access.json"
    )
    plan = Plan(
        quick=args.quick,
        subjects=5000,
        seed=42,
        latency_ms=0.0,
        cold_requests=1,
        warm_ids=args.warm_ids,
        concurrency=args.concurrency,
        warmup_s=warmup,
        duration_s=duration,
        rounds=rounds,
        output=output,
        pin=False,  # this benchmark starts its own servers, on every core
    )
    today = date.today()
    ids = pick_ids(plan, Dataset(plan.subjects, plan.seed, today)).warm
    payloads = [
        orjson.dumps({"query": PROFILE_QUERY, "variables": {"id": i, "matter": MATTER}})
        for i in ids
    ]
    token = mint_dev_token(
        AuthSettings(dev_secret=SECRET),
        ["credit_office"],
        subject="bench-office",
        department="credit_office",
        scopes=["pii"],
        ttl=timedelta(hours=2),
    )
    on_headers = {**JSON_HEADERS, "authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as tmp, ProcessGroup(Path(tmp)) as group:
        registries = start_registries(group, plan, today)
        config = Path(tmp) / "gateway.toml"
        audit_db = Path(tmp) / "audit.db"
        config.write_text(
            gateway_config(registries, plan).replace(
                'url = "sqlite:///:memory:"', f'url = "sqlite:///{audit_db}"'
            )
            + f'\n[auth]\ndev_secret = "{SECRET}"\n'
        )
        modes = ("off", "on", "no-audit") if args.breakdown else ("off", "on")
        servers = {}
        for mode in modes:
            process, base = start_uvicorn_server(
                group,
                f"gateway-{mode}",
                [sys.executable, "-m", "bench.access_app", "--config", str(config), "--mode", mode],
            )
            servers[mode] = (process, f"{base}/graphql")
        headers = {"off": JSON_HEADERS, "on": on_headers, "no-audit": on_headers}

        async def measure() -> list[LoadRun]:
            async with aiohttp.ClientSession() as session:
                for mode, (_, url) in servers.items():
                    for payload in payloads:  # warm every cache before anything counts
                        async with session.post(url, data=payload, headers=headers[mode]) as r:
                            body = await r.read()
                            if r.status != 200 or b'"errors"' in body:
                                raise RuntimeError(f"{mode}: warm-up failed: {body[:300]!r}")

            def slice_of(mode: str, round_no: int) -> Awaitable[LoadRun]:
                process, url = servers[mode]
                return drive(
                    mode,
                    round_no,
                    url,
                    payloads,
                    plan.concurrency,
                    warmup,
                    duration,
                    process.pid,
                    headers[mode],
                )

            runs: list[LoadRun] = []
            for round_no in range(1, rounds + 1):
                if args.side_by_side:
                    runs += await asyncio.gather(*(slice_of(mode, round_no) for mode in modes))
                    continue
                # Rotate the order each round (off-on, on-off, ...) so a drift favours none.
                shift = (round_no - 1) % len(modes)
                for mode in modes[shift:] + modes[:shift]:
                    runs.append(await slice_of(mode, round_no))
            return runs

        runs = run_async(measure)
        entries = asyncio.run(_audit_entries(audit_db))
    figures = _figures(runs, entries, args.side_by_side)
    print(_report(figures))
    write_json(figures, output)
    print(f"[access] figures written to {output}")
    return 0


async def _audit_entries(path: Path) -> dict[str, Any]:
    from gateway.audit import open_store, verify

    async with open_store(f"sqlite:///{path}", create=False) as store:
        report = await verify(store)
    return {"entries": report.count, "verified": report.ok}


def _figures(runs: list[LoadRun], audit: dict[str, Any], side_by_side: bool) -> dict[str, Any]:
    def median(mode: str, value: str) -> float:
        values: list[float | None] = [getattr(r, value) for r in runs if r.target == mode]
        return float(statistics.median(v for v in values if v is not None))

    on, off = median("on", "rps"), median("off", "rps")
    rps = {(r.round, r.target): r.rps for r in runs}
    rounds = sorted({r.round for r in runs})
    paired = [rps[(n, "on")] / rps[(n, "off")] for n in rounds]
    ratio = statistics.median(paired)
    quartiles = statistics.quantiles(paired, n=4) if len(paired) > 1 else [ratio, ratio, ratio]
    cpu = {(r.round, r.target): r.server_cpu_ms_per_request for r in runs}

    def cpu_ratios(mode: str) -> list[float]:
        """Per round, off's CPU per request over `mode`'s: what `mode` costs, as a fraction."""
        return [
            off_cpu / mode_cpu
            for n in rounds
            if (off_cpu := cpu[(n, "off")]) is not None and (mode_cpu := cpu[(n, mode)])
        ]

    cpu_paired = cpu_ratios("on")
    breakdown = {}
    if any(r.target == "no-audit" for r in runs):
        no_audit = [rps[(n, "no-audit")] / rps[(n, "off")] for n in rounds]
        no_audit_cpu = cpu_ratios("no-audit")
        breakdown = {
            "no_audit_round_ratios": no_audit,
            "no_audit_ratio": statistics.median(no_audit),
            "no_audit_cpu_ratio": statistics.median(no_audit_cpu) if no_audit_cpu else None,
            "cpu_ms_per_request_no_audit": median("no-audit", "server_cpu_ms_per_request"),
        }
    cpu_on = median("on", "server_cpu_ms_per_request")
    cpu_off = median("off", "server_cpu_ms_per_request")
    return {
        "method": "side by side" if side_by_side else "alternating",
        "runs": [r.as_dict() for r in runs],
        "rps_on": on,
        "rps_off": off,
        "round_ratios": paired,
        "ratio": ratio,
        "ratio_quartiles": [quartiles[0], quartiles[2]],
        "ratio_of_medians": on / off,
        "cpu_ratio": statistics.median(cpu_paired) if cpu_paired else None,
        "goal": GOAL,
        # Side by side, the gateways share the cores: their throughput ratio is not the goal's.
        "met": None if side_by_side else ratio >= GOAL,
        "cpu_ms_per_request_on": cpu_on,
        "cpu_ms_per_request_off": cpu_off,
        **breakdown,
        "errors": sum(r.errors for r in runs),
        "audit": audit,
        "departments": list(DEPARTMENTS),
    }


def _report(f: dict[str, Any]) -> str:
    by_round: dict[int, list[str]] = {}
    for r in f["runs"]:
        errors = f" ({r['errors']} errors)" if r["errors"] else ""
        by_round.setdefault(r["round"], []).append(f"{r['target']} {r['rps']:.0f}{errors}")
    rows = "\n".join(f"  {n:>5}  " + ", ".join(cells) for n, cells in by_round.items())
    breakdown = ""
    if "no_audit_ratio" in f:
        breakdown = (
            "  access control on, audit off, per round: "
            + ", ".join(f"{r:.3f}" for r in f["no_audit_round_ratios"])
            + f"\n  median: {f['no_audit_ratio']:.3f} of off; server CPU per request "
            f"{f['cpu_ms_per_request_no_audit']:.3f} ms"
            + _cpu_ratio(f.get("no_audit_cpu_ratio"))
            + "\n"
        )
    if f["met"] is None:
        verdict = "side by side: not the goal's figure, which drives one gateway at a time"
    else:
        verdict = f"goal >= {GOAL}: {'met' if f['met'] else 'NOT met'}"
    order = "all at once" if f["method"] == "side by side" else "in the order driven"
    return (
        "Warm full profile, access control and audit on vs off (same registries, same requests)\n"
        f"  round  req/s of each gateway, {order}\n{rows}\n"
        "  on/off per round: " + ", ".join(f"{r:.3f}" for r in f["round_ratios"]) + "\n"
        f"  median of the rounds' ratios: on = {f['ratio']:.3f} of off ({verdict}); "
        f"quartiles {f['ratio_quartiles'][0]:.3f}-{f['ratio_quartiles'][1]:.3f}\n"
        f"  median req/s: on {f['rps_on']:.0f}, off {f['rps_off']:.0f} "
        f"(ratio of medians {f['ratio_of_medians']:.3f})\n"
        + breakdown
        + f"  server CPU per request: on {f['cpu_ms_per_request_on']:.3f} ms, "
        f"off {f['cpu_ms_per_request_off']:.3f} ms" + _cpu_ratio(f["cpu_ratio"]) + "\n"
        f"  audit: {f['audit']['entries']} entries, chain "
        f"{'verified' if f['audit']['verified'] else 'BROKEN'}"
    )


def _cpu_ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f" (median of the rounds' off/on CPU per request: {ratio:.3f})"


if __name__ == "__main__":
    raise SystemExit(main())
