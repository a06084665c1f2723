"""`Subject.sources`: one row per department (and lower-level gateway) consulted, saying how its
part was obtained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.errors import SourceError, SourceState
from resolvers.subject import SubjectRef


@dataclass(frozen=True, slots=True)
class SourceRow:
    department: str
    status: SourceState
    from_cache: bool
    fetched_at: datetime | None
    age_seconds: float | None
    latency_ms: float | None
    message: str | None
    region: str | None


def resolve_sources(root: SubjectRef) -> list[SourceRow]:
    now = datetime.now(UTC)
    return [
        SourceRow(
            department=outcome.department,
            status=outcome.state,
            from_cache=outcome.from_cache,
            fetched_at=outcome.fetched_at,
            age_seconds=(
                round((now - outcome.fetched_at).total_seconds(), 3)
                if outcome.fetched_at is not None
                else None
            ),
            latency_ms=round(outcome.latency_ms, 2) if outcome.latency_ms is not None else None,
            message=_message(outcome.error),
            region=outcome.region,
        )
        for outcome in root.outcomes.values()
    ]


def _message(error: Exception | None) -> str | None:
    if error is None:
        return None
    return str(error) if isinstance(error, SourceError) else "internal error"
