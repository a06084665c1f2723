"""A request's deadline: the one point in time by which every upstream call made for it must end.

Why one deadline instead of only per-call timeouts: a request consults several departments, may
retry, and may look up legal representatives after the companies; per-call timeouts alone add up.
The gateway fixes the deadline when a request arrives (`[graphql] deadline_s`) and hands it down
with every load: each call's timeout is the smaller of its own `timeout_s` and what is left, a
retry only goes out if it fits in what is left, and a request stops waiting for a department at
the deadline (the shared call it joined goes on for the other requests waiting on it).

It is a plain value on the monotonic clock, so it can be passed around and compared freely.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float
    """`time.monotonic()` at which the budget is spent."""
    budget_s: float
    """The whole budget it was made with, for messages (`did not answer within 5 s`)."""

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.at
