"""How a source's failed calls are retried: the `retry` table of a connector's settings, and the
`Retry-After` header read into seconds.

The retry loop itself is in connectors/resilience.py (with `stamina`); this module only holds
what it is configured with, so settings and the HTTP runtimes can import it without the loop.
"""

from __future__ import annotations

import email.utils
import math
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RetrySettings(BaseModel):
    """Jittered exponential backoff for reads that failed in a way asking again may cure.

    The wait before retry *n* (1-based) is `min(wait_max_s, wait_initial_s * 2**(n-1) +
    uniform(0, wait_jitter_s))` (stamina's formula), or the source's `Retry-After` when it sent
    one. Every retry must fit in what is left of the request's deadline, waiting included, or it
    is not made. The defaults (3 attempts, 0.1 s then 0.2 s plus up to 0.1 s of jitter) cost at
    most about half a second of waiting, well inside the default 5 s deadline.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(default=3, ge=1, le=10)
    """Calls in all, the first included (1: never retry)."""
    wait_initial_s: float = Field(default=0.1, ge=0, le=10)
    wait_max_s: float = Field(default=1.0, ge=0, le=60)
    wait_jitter_s: float = Field(default=0.1, ge=0, le=10)

    @model_validator(mode="after")
    def _max_covers_initial(self) -> RetrySettings:
        if self.wait_max_s < self.wait_initial_s:
            raise ValueError("wait_max_s must be at least wait_initial_s")
        return self


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or an HTTP-date, RFC 9110
    10.2.3); `None` when absent or unreadable. A date in the past means no wait."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
