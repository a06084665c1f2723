"""A department as the resolvers see it: its connector behind the cache and single-flight.

A `Source` lives for the app's lifetime and is shared by all requests; per-request batching happens
in the resolvers' DataLoaders, which call `load_many` once per tick with every id they collected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from connectors.errors import SourceError, SourceState
from connectors.protocol import Connector
from connectors.records import SubjectRecord
from connectors.settings import ConnectorSettings
from gateway.errors import where_raised
from gateway.record_cache import RecordCache
from gateway.singleflight import SingleFlight
from resolvers.outcome import SourceOutcome

log = logging.getLogger(__name__)


class Source:
    def __init__(self, connector: Connector, settings: ConnectorSettings) -> None:
        self.connector = connector
        self.department = connector.department
        self.cache = RecordCache(
            settings.cache_ttl_s, settings.stale_ttl_s, settings.cache_max_entries
        )
        self._flight: SingleFlight[str, SourceOutcome] = SingleFlight()

    async def load_many(self, ids: Sequence[str]) -> list[SourceOutcome]:
        outcomes: dict[str, SourceOutcome] = {}
        missing: list[str] = []
        for subject_id in ids:
            cached = self.cache.get(subject_id)
            if cached is not None and cached[1]:
                entry = cached[0]
                outcomes[subject_id] = SourceOutcome(
                    self.department,
                    _found(entry.record),
                    record=entry.record,
                    from_cache=True,
                    fetched_at=entry.fetched_at,
                )
            else:
                missing.append(subject_id)
        if missing:
            outcomes.update(await self._flight.run(missing, self._fetch))
        return [outcomes[subject_id] for subject_id in ids]

    async def aclose(self) -> None:
        await self._flight.aclose()

    async def _fetch(self, ids: list[str]) -> dict[str, SourceOutcome]:
        answers, latency_ms, fetched_at = await timed_answers(
            self.department,
            ids,
            lambda: self.connector.fetch_many(ids),
            lambda: SourceError(self.department, "failed unexpectedly"),
        )
        outcomes: dict[str, SourceOutcome] = {}
        for subject_id in ids:
            answer = answers.get(subject_id)
            if subject_id not in answers:
                answer = SourceError(self.department, "did not answer for every subject")
            if isinstance(answer, SourceError):
                outcomes[subject_id] = self._fallback(subject_id, answer, latency_ms)
                continue
            self.cache.put(subject_id, answer, fetched_at)
            outcomes[subject_id] = SourceOutcome(
                self.department,
                _found(answer),
                record=answer,
                fetched_at=fetched_at,
                latency_ms=latency_ms,
            )
        return outcomes

    def _fallback(self, subject_id: str, error: SourceError, latency_ms: float) -> SourceOutcome:
        """Stale-if-error: an expired entry still inside its stale window beats no data."""
        cached = self.cache.get(subject_id)
        if cached is not None:
            entry = cached[0]
            return SourceOutcome(
                self.department,
                SourceState.STALE,
                record=entry.record,
                error=error,
                from_cache=True,
                fetched_at=entry.fetched_at,
                latency_ms=latency_ms,
            )
        return SourceOutcome(self.department, error.state, error=error, latency_ms=latency_ms)


R = TypeVar("R")


async def timed_answers(
    key: str,
    ids: Sequence[str],
    fetch: Callable[[], Awaitable[Mapping[str, R | SourceError | None]]],
    unexpected: Callable[[], SourceError],
) -> tuple[Mapping[str, R | SourceError | None], float, datetime]:
    """A connector's answers for `ids`, how long the call took, and when it ended.

    A call that fails as a whole (`SourceError`) fails every id with that error. Anything else is
    a bug in the connector: it is logged once (type and place only, never a message that might
    carry data) and every id fails with `unexpected()`, so one connector cannot break a profile.
    """
    started = time.perf_counter()
    answers: Mapping[str, R | SourceError | None]
    try:
        answers = await fetch()
    except SourceError as exc:
        answers = dict.fromkeys(ids, exc)
    except Exception as exc:
        log.error(
            "connector of %s failed unexpectedly: %s raised at %s",
            key,
            type(exc).__name__,
            where_raised(exc),
        )
        answers = dict.fromkeys(ids, unexpected())
    return answers, (time.perf_counter() - started) * 1000, datetime.now(UTC)


def _found(record: SubjectRecord | None) -> SourceState:
    return SourceState.OK if record is not None else SourceState.NOT_FOUND
