"""A registry's injected latency, kept to within a few hundredths of a millisecond.

The event loop's timers tick in whole milliseconds. Under uvloop (libuv) a 20 ms `asyncio.sleep`
ended anywhere from 0.8 ms early to 1.2 ms late, in two clusters about 0.7 ms apart (measured in
the reference registries during `bench.fanout`), so a "fixed" latency jittered by a millisecond.
A fan-out waits for the slowest of its answers: it paid the late cluster almost every time, a
single call about half the time, which made fanning out look dearer than it is against registries
that keep their latency. Jitter is for `jitter_ms` to add, on purpose.

So, with `precise_latency` (what `bench.fanout` asks for), the loop's timer ends the wait early,
by more than it can be off, and the registry yields to the loop until the moment comes: about a
millisecond of loop turns per delayed request, in which the loop serves everything else as
usual, but which a registry under heavy load (the soak) should not spend. A worker thread
sleeping the rest was tried first: its wake-up, and the interpreter lock, put up to a millisecond
back at the tail.
"""

from __future__ import annotations

import asyncio
import time

TIMER_MARGIN_S = 0.0015
"""How long before the deadline the loop's timer is asked to end: more than it ends early by."""


async def sleep_precisely(delay_s: float) -> None:
    """`asyncio.sleep(delay_s)`, ending within a few hundredths of a millisecond of `delay_s`."""
    deadline = time.perf_counter() + delay_s
    if delay_s > TIMER_MARGIN_S:
        await asyncio.sleep(delay_s - TIMER_MARGIN_S)
    while time.perf_counter() < deadline:  # noqa: ASYNC110 (a wait finer than the timers)
        await asyncio.sleep(0)
