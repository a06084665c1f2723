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
