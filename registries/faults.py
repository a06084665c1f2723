"""Fault injection settings, and the dice a registry throws for each request.

The gateway's promises (a failing department yields a null section, not a failed query; a hung
registry costs one timeout, not a stuck request) can only be tested against registries that fail
on demand, in every way a real one does. Each request suffers at most one fault: the rates are the
exact shares of requests that get each fault, so they must add up to at most 1.

Latency (plus jitter) applies first, to every request; then a flapping registry in its failing half
answers 500; otherwise one uniform draw picks the fault, if any. With `seed` set, the sequence of
decisions is reproducible (for one client sending requests one at a time).
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class Fault(enum.Enum):
    """What goes wrong with one request."""

    ERROR = "error"
    """HTTP 500 with a JSON error body."""
    MALFORMED = "malformed"
    """HTTP 200, ``application/json``, a truncated body that is not JSON."""
    WRONG_SCHEMA = "wrong_schema"
    """HTTP 200 with valid JSON of the wrong shape (``penalties`` a string, ``updatedAt`` gone)."""
    HANG = "hang"
    """No answer at all, until the client gives up."""
    HANG_BODY = "hang_body"
    """Status, headers and part of the body, then nothing."""
    DROP = "drop"
    """The TCP connection is reset without an answer."""
    RATE_LIMIT = "rate_limit"
    """HTTP 429 with ``Retry-After``."""
    HUGE_PAYLOAD = "huge_payload"
    """The normal answer padded (still valid JSON) to `huge_payload_bytes`."""


class Faults(BaseModel):
    """How a reference registry misbehaves. The default misbehaves in no way."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(0.0, ge=0)
    jitter_ms: float = Field(0.0, ge=0, description="uniform extra latency in [0, jitter_ms]")
    precise_latency: bool = Field(
        False,
        description="keep latency + jitter to within a few hundredths of a millisecond "
        "(the event loop's timers can be off by a millisecond); costs the process about a "
        "millisecond of loop turns per delayed request",
    )
    error_rate: Rate = 0.0
    malformed_rate: Rate = 0.0
    wrong_schema_rate: Rate = 0.0
    hang_rate: Rate = 0.0
    hang_body_rate: Rate = 0.0
    drop_rate: Rate = 0.0
    rate_limit_rate: Rate = 0.0
    retry_after_s: float = Field(1.0, ge=0, description="the Retry-After of a 429")
    huge_payload_rate: Rate = 0.0
    huge_payload_bytes: int = Field(5_000_000, ge=1, le=1_000_000_000)
    flap_period_s: float = Field(
        0.0, ge=0, description="when > 0: healthy, then failing with 500, each for this long"
    )
    seed: int | None = Field(None, description="seed of the fault decisions, for reproducibility")

    @model_validator(mode="after")
    def _rates_fit(self) -> Faults:
        total = sum(getattr(self, field) for field, _ in RATE_FIELDS)
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"fault rates add up to {total:g}; each request gets at most one fault"
            )
        return self

    def rate_of(self, fault: Fault) -> float:
        return float(getattr(self, _FIELD_OF[fault]))


RATE_FIELDS: tuple[tuple[str, Fault], ...] = (
    ("error_rate", Fault.ERROR),
    ("malformed_rate", Fault.MALFORMED),
    ("wrong_schema_rate", Fault.WRONG_SCHEMA),
    ("hang_rate", Fault.HANG),
    ("hang_body_rate", Fault.HANG_BODY),
    ("drop_rate", Fault.DROP),
    ("rate_limit_rate", Fault.RATE_LIMIT),
    ("huge_payload_rate", Fault.HUGE_PAYLOAD),
)
"""The rate fields in the order the single draw walks them."""
_FIELD_OF = {fault: field for field, fault in RATE_FIELDS}


class FaultSwitch:
    """The live fault settings of one registry: replaced at run time, read by every request.

    Replacing the settings restarts the decision sequence (from `seed`) and the flapping clock, so
    a test that installs faults knows the state the registry starts in.
    """

    def __init__(
        self, faults: Faults | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self.replace(faults or Faults())

    @property
    def faults(self) -> Faults:
        return self._faults

    def replace(self, faults: Faults) -> None:
        self._faults = faults
        self._rng = random.Random(faults.seed)
        self._epoch = self._clock()

    def reset(self) -> None:
        self.replace(Faults())

    def delay_s(self) -> float:
        """How long this request waits before anything else happens."""
        faults = self._faults
        extra = self._rng.uniform(0.0, faults.jitter_ms) if faults.jitter_ms > 0 else 0.0
        return (faults.latency_ms + extra) / 1000.0

    def flapping_down(self) -> bool:
        """Whether a flapping registry is in a failing half-period now (it starts healthy)."""
        period = self._faults.flap_period_s
        if period <= 0:
            return False
        return int((self._clock() - self._epoch) // period) % 2 == 1

    def draw(self) -> Fault | None:
        """The fault this request suffers, if any."""
        if self.flapping_down():
            return Fault.ERROR
        faults = self._faults
        if not any(getattr(faults, field) for field, _ in RATE_FIELDS):
            return None
        roll = self._rng.random()
        threshold = 0.0
        for field, fault in RATE_FIELDS:
            threshold += getattr(faults, field)
            if roll < threshold:
                return fault
        return None
