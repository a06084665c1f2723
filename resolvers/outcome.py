"""What a resolver gets when it asks for one department's record of one subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors.errors import SourceState
from connectors.records import SubjectRecord


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """One department's (or lower-level gateway's) answer for one subject, and how it was
    obtained (a `sources` row)."""

    department: str
    state: SourceState
    record: SubjectRecord | None = None
    error: Exception | None = None
    """Why it failed: a `SourceError`, or an unexpected exception (a bug, shown as INTERNAL)."""
    from_cache: bool = False
    fetched_at: datetime | None = None
    latency_ms: float | None = None
    region: str | None = None
    """The division a lower-level gateway serves, for its row; `None` for departments."""

    @property
    def answered(self) -> bool:
        """Whether this part of the profile can be relied on: the source said what it holds
        (possibly nothing), now or earlier. True for OK, NOT_FOUND and STALE, and for anything
        served from the cache: with the circuit open, a stale entry is served with the state
        `CIRCUIT_OPEN` (the row says why the registry was not asked) but its record, or its
        cached "not found", is still the source's answer. A lower gateway's partial answer
        (a record, and a failure state) is not: some of its parts are missing."""
        return self.state.answered or self.from_cache


def failed_outcome(department: str, error: BaseException) -> SourceOutcome:
    """The outcome of a department whose load raised: a bug on one department's path fails that
    department (`ERROR`), not the profile. Cancellation and the like are not a department's
    failure: they are raised again."""
    if not isinstance(error, Exception):
        raise error
    return SourceOutcome(department, SourceState.ERROR, error=error)
