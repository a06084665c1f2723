"""The soak's fault schedule: one registry misbehaving at a time, then all healthy again.

Faults are switched at run time through the reference registries' admin endpoint
(`PUT /admin/faults`, registries/app.py), which replaces a registry's whole fault settings, so each
switch sends the baseline (a little latency and jitter, as a real registry has) plus the step's
fault. The four registries share one process, so "down" is injected as every connection being
reset without an answer (`drop_rate = 1`), which the gateway sees as a registry it cannot reach.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

BASELINE: dict[str, Any] = {"latency_ms": 5.0, "jitter_ms": 10.0}
"""Every registry's behaviour when healthy."""


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    department: str | None
    """The registry that misbehaves during the step (None: all healthy)."""
    faults: Mapping[str, Any]


HEALTHY = Step("all healthy", None, {})
SCHEDULE: tuple[Step, ...] = (
    HEALTHY,
    Step("environment down (connections reset)", "environment", {"drop_rate": 1.0}),
    HEALTHY,
    Step("quality hangs", "quality", {"hang_rate": 1.0}),
    HEALTHY,
    Step("health answers 500", "health", {"error_rate": 1.0}),
    HEALTHY,
    Step("commerce slow (1.2-1.8 s)", "commerce", {"latency_ms": 1200.0, "jitter_ms": 600.0}),
    HEALTHY,
    Step("environment flapping (1 s)", "environment", {"flap_period_s": 1.0}),
    HEALTHY,
    Step(
        "quality sends garbage",
        "quality",
        {"malformed_rate": 0.5, "wrong_schema_rate": 0.5},
    ),
)
"""Repeated from the start for as long as the load runs."""


@dataclass(frozen=True, slots=True)
class StepRun:
    """One step as it ran: seconds into the load when its faults were in place, and when it
    ended."""

    index: int
    label: str
    department: str | None
    started_s: float
    ended_s: float


async def put_faults(
    session: aiohttp.ClientSession, registry: str, faults: Mapping[str, Any]
) -> None:
    body = {**BASELINE, **faults}
    async with session.put(f"{registry}/admin/faults", json=body) as response:
        if response.status != 200:
            raise RuntimeError(f"{registry} refused faults {body}: HTTP {response.status}")
        await response.read()


async def run_schedule(
    session: aiohttp.ClientSession,
    registries: Mapping[str, str],
    step_s: float,
    clock: Callable[[], float],
    stop_at: float,
    log: Callable[[str], None],
    on_step: Callable[[int], None],
) -> list[StepRun]:
    """Walk `SCHEDULE` (cyclically), `step_s` per step, until `stop_at` on `clock`, calling
    `on_step(index)` once each step's faults are in place; every registry is healthy again on
    return, however the walk ended."""
    start = clock()
    runs: list[StepRun] = []
    faulty: str | None = None
    index = 0
    try:
        while clock() < stop_at:
            step = SCHEDULE[index % len(SCHEDULE)]
            if faulty is not None and faulty != step.department:
                await put_faults(session, registries[faulty], {})
            if step.department is not None:
                await put_faults(session, registries[step.department], step.faults)
            faulty = step.department
            began = clock()
            on_step(index)
            log(f"fault step {index + 1}: {step.label}")
            await asyncio.sleep(max(0.0, min(began + step_s, stop_at) - clock()))
            runs.append(StepRun(index, step.label, step.department, began - start, clock() - start))
            index += 1
    finally:
        await asyncio.gather(*(put_faults(session, url, {}) for url in registries.values()))
    return runs
