"""A small circuit breaker, one per connector: stop calling a registry that keeps failing.

Why: a registry that is down costs every lookup its timeout, and retries multiply that. Once most
recent calls failed, the breaker *opens*: calls fail at once (`CIRCUIT_OPEN`, stale data served
where the cache has it) for `open_s`. Then it goes *half-open* and lets `half_open_probes` calls
through; if they succeed it *closes* again, if one fails it reopens for another `open_s`.

Failure is judged on a rate over a sliding window of time (`window_s`), and only once the window
holds `min_calls` calls, so one failure on a quiet connector does not cut it off. No library
fits this small need on asyncio without threads or global state (pybreaker is synchronous and
keeps module-level listeners), hence these few lines; they run on the event loop only, so they
need no lock.

Which failures count is the caller's business (connectors/resilience.py: timeouts, unavailability,
5xx and 429, bad responses; a record not found is a success). The settings are the `breaker`
table of a connector's or upstream's config; pydantic validates them as this dataclass.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from pydantic import ConfigDict


class BreakerState(enum.Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """The defaults suit a registry with the default 3 s `timeout_s`: the 30 s window holds ten
    timeouts' worth of calls, so a registry that hangs is judged on what it did lately, and 10 s
    open makes the one probe per period a small cost next to the calls it saves."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    failure_rate: float = 0.5
    """Open when at least this share of the window's calls failed (0 < rate <= 1)."""
    min_calls: int = 10
    """...and the window holds at least this many calls."""
    window_s: float = 30.0
    open_s: float = 10.0
    """How long an open breaker refuses calls before probing."""
    half_open_probes: int = 1
    """Calls let through at once while half-open."""

    def __post_init__(self) -> None:
        if not 0 < self.failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")
        if self.min_calls < 1 or self.half_open_probes < 1:
            raise ValueError("min_calls and half_open_probes must be at least 1")
        if self.window_s <= 0 or self.open_s <= 0:
            raise ValueError("window_s and open_s must be positive")


class CircuitBreaker:
    def __init__(
        self,
        settings: BreakerSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or BreakerSettings()
        self._clock = clock
        self._calls: deque[tuple[float, bool]] = deque()
        self._failures = 0
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probes = 0
        self.opened = 0
        """How many times the breaker opened (for metrics)."""

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.settings.open_s
        ):
            self._state = BreakerState.HALF_OPEN
            self._probes = 0
        return self._state

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a probe through (0 unless open)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.settings.open_s - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """Whether a call may go out now. A half-open breaker counts the probes it lets out, so
        every `allow()` that returns true must be followed by one `record()`."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes < self.settings.half_open_probes:
            self._probes += 1
            return True
        return False

    def release(self) -> None:
        """A call that `allow()` let out ended without a verdict (cancelled, or cut short by the
        caller's own deadline rather than the source's slowness): nothing is recorded, and a
        half-open probe's place is given back for the next caller."""
        if self._state is BreakerState.HALF_OPEN and self._probes > 0:
            self._probes -= 1

    def record(self, success: bool) -> None:
        """The outcome of a call that `allow()` let out."""
        now = self._clock()
        state = self.state
        if state is BreakerState.HALF_OPEN:
            if success:
                self._close()
            else:
                self._open(now)
            return
        if state is BreakerState.OPEN:
            return  # a call let out before the breaker opened: already counted
        self._calls.append((now, success))
        if not success:
            self._failures += 1
        self._forget_before(now - self.settings.window_s)
        total = len(self._calls)
        if (
            total >= self.settings.min_calls
            and self._failures / total >= self.settings.failure_rate
        ):
            self._open(now)

    def _forget_before(self, horizon: float) -> None:
        while self._calls and self._calls[0][0] < horizon:
            _, ok = self._calls.popleft()
            if not ok:
                self._failures -= 1

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self.opened += 1

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._calls.clear()
        self._failures = 0
