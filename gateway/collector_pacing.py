"""The cyclic garbage collector run between requests rather than in the middle of one.

Every cold profile leaves its records in the cache, so the collector's young generation fills with
objects that survive, and a collection walks all of them: measured in the served gateway, 5 to 12 ms
each, about once every 75 cold profiles (with `tune_garbage_collector`'s thresholds). Python starts
a collection whenever an allocation crosses the threshold, wherever that is; on a request's way out
(before its last registry request left) or back (after the last answer), the pause is that
request's latency: in one measured run of 300 cold profiles, the two slowest were those.

So the automatic collection is switched off while the app runs, and the same collection (the same
generations, by the same thresholds) is made when a request ends and no other is in flight: the
work moves to a moment when nobody waits for it. A server that is never idle still collects: at a
request's end once the young generation holds twice its threshold, and from a periodic check, so
cyclic garbage stays bounded as before. The GC is process state: this wrapper switches it for the
lifespan of the app it wraps and restores it after.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

from starlette.types import ASGIApp, Receive, Scope, Send

OVERDUE_FACTOR = 2
"""A young generation this many times its threshold is collected even with requests in flight."""
CHECK_INTERVAL_S = 1.0
"""How often an idle server (no request ending) looks whether a collection is due."""


def due_generation(overdue_factor: int = 1) -> int | None:
    """The generation Python would collect now (the oldest whose count is over its threshold,
    once the youngest's is), or None. `overdue_factor` raises the youngest's bar."""
    counts = gc.get_count()
    thresholds = gc.get_threshold()
    if thresholds[0] <= 0 or counts[0] <= thresholds[0] * overdue_factor:
        return None
    for generation in (2, 1):
        if counts[generation] > thresholds[generation]:
            return generation
    return 0


class CollectBetweenRequests:
    """ASGI wrapper: counts the HTTP requests in flight; collects when the last one ends."""

    def __init__(self, app: ASGIApp, check_interval_s: float = CHECK_INTERVAL_S) -> None:
        self._app = app
        self._check_interval_s = check_interval_s
        self.in_flight = 0
        self.collections = 0
        """Collections this wrapper made (for tests and diagnostics)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.collect_if_due()

    def collect_if_due(self) -> None:
        """Collect what is due when nothing is in flight, or what is overdue in any case."""
        generation = due_generation(1 if self.in_flight == 0 else OVERDUE_FACTOR)
        if generation is not None:
            gc.collect(generation)
            self.collections += 1

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        was_enabled = gc.isenabled()
        gc.disable()
        checker = asyncio.get_running_loop().create_task(self._check_periodically())
        try:
            await self._app(scope, receive, send)
        finally:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
            if was_enabled:
                gc.enable()

    async def _check_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._check_interval_s)
            self.collect_if_due()
