"""A department as the resolvers see it: its connector behind the cache, single-flight, retries
and circuit breaker, within each request's deadline.

A `Source` lives for the app's lifetime and is shared by all requests; per-request batching happens
in the resolvers' DataLoaders, which call `load_many` once per tick with every id they collected,
and the request's deadline.

The order matters: a fresh cache entry is served without anything else; a miss joins or starts a
single-flight fetch, and the fetch (shared by every request waiting on those ids) goes through
`Resilience` (connectors/resilience.py: the breaker, the retries, the per-call timeout cut to the
deadline of the request that started it). Each request waits for the fetch only until its own
deadline, then gets `TIMEOUT` (or the stale entry) while the fetch goes on for the others. A
failed fetch serves the stale entry if the cache still holds one: as `STALE`, or as
`CIRCUIT_OPEN` when the breaker kept the registry from being asked at all.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from connectors.deadline import Deadline
from connectors.errors import SourceCircuitOpen, SourceError, SourceState, SourceTimeout
from connectors.protocol import Connector
from connectors.records import SubjectRecord
from connectors.resilience import Resilience
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
        self.resilience: Resilience[SubjectRecord] = Resilience(
            self.department, settings.timeout_s, settings.retry, settings.breaker
        )
        self._flight: SingleFlight[str, SourceOutcome] = SingleFlight()

    async def load_many(
        self, ids: Sequence[str], deadline: Deadline | None = None
    ) -> list[SourceOutcome]:
        """Outcomes of `ids`, in order, within `deadline` (none: bounded by the connector's
        timeout and retries only)."""
        outcomes: dict[str, SourceOutcome] = {}
        missing: list[str] = []
        for subject_id in ids:
            cached = self.cached(subject_id)
            if cached is not None:
                outcomes[subject_id] = cached
            else:
                missing.append(subject_id)
        if missing:
            loop = asyncio.get_running_loop()
            pending = {subject_id: loop.create_future() for subject_id in missing}
            self._start_fetch(pending, deadline)
            outcomes.update(zip(pending, await asyncio.gather(*pending.values()), strict=True))
        return [outcomes[subject_id] for subject_id in ids]

    def start(
        self, ids: Sequence[str], deadline: Deadline | None = None
    ) -> list[asyncio.Future[SourceOutcome]]:
        """`load_many` without waiting: the outcome of each id as a future of this caller's, in
        order, the fetch of those not cached started now.

        Why: fetching ahead (`RequestContext.prefetch`) ran `load_many` in a task, whose fetch
        then ran in the single-flight's task: two tasks, and one more loop turn, before each
        department's request could leave. Each future ends by `deadline` (`TIMEOUT`, or the stale
        entry) while the shared fetch goes on for the others; cancelling one cancels nothing
        else."""
        loop = asyncio.get_running_loop()
        futures: dict[str, asyncio.Future[SourceOutcome]] = {}
        pending: dict[str, asyncio.Future[SourceOutcome]] = {}
        for subject_id in ids:
            if subject_id in futures:
                continue
            future = futures[subject_id] = loop.create_future()
            cached = self.cached(subject_id)
            if cached is not None:
                future.set_result(cached)
            else:
                pending[subject_id] = future
        if pending:
            self._start_fetch(pending, deadline)
        return [futures[subject_id] for subject_id in ids]

    def _start_fetch(
        self, pending: dict[str, asyncio.Future[SourceOutcome]], deadline: Deadline | None
    ) -> None:
        """Join or start the shared fetch of `pending`'s ids and hand each its outcome, or
        `TIMEOUT` (the stale entry) at `deadline`. Waiting stops at the deadline, the shared fetch
        does not: each caller waits on futures of its own, never on the shared ones."""
        started = time.perf_counter()
        if deadline is not None and deadline.remaining() <= 0:
            self._time_out(pending, deadline, started)
            return

        fetch = functools.partial(self._fetch, deadline=deadline)
        shared = self._flight.start(list(pending), fetch)
        for subject_id, future in pending.items():
            shared[subject_id].add_done_callback(functools.partial(_hand_over, future))
        if deadline is None:
            return
        timer = asyncio.get_running_loop().call_later(
            deadline.remaining(), self._time_out, pending, deadline, started
        )
        left = [len(pending)]

        def one_done(_: asyncio.Future[SourceOutcome]) -> None:
            left[0] -= 1
            if not left[0]:
                timer.cancel()

        for future in pending.values():
            future.add_done_callback(one_done)

    def _time_out(
        self,
        pending: Mapping[str, asyncio.Future[SourceOutcome]],
        deadline: Deadline,
        started: float,
    ) -> None:
        """The request's deadline has come: its outcomes still pending are `TIMEOUT` (or stale)."""
        error = self._deadline_error(deadline)
        latency_ms = (time.perf_counter() - started) * 1000
        for subject_id, future in pending.items():
            if not future.done():
                future.set_result(self._fallback(subject_id, error, latency_ms))

    def cached(self, subject_id: str) -> SourceOutcome | None:
        """The outcome of a fresh cache entry, if there is one."""
        cached = self.cache.get(subject_id)
        if cached is None or not cached[1]:
            return None
        entry = cached[0]
        return SourceOutcome(
            self.department,
            _found(entry.record),
            record=entry.record,
            from_cache=True,
            fetched_at=entry.fetched_at,
        )

    @property
    def inflight(self) -> int:
        """Subjects being fetched now (by any request)."""
        return self._flight.inflight

    def fresh(self, subject_id: str) -> bool:
        cached = self.cache.get(subject_id)
        return cached is not None and cached[1]

    def _deadline_error(self, deadline: Deadline) -> SourceTimeout:
        return SourceTimeout(
            self.department,
            f"did not answer within the request's deadline ({deadline.budget_s:g} s)",
        )

    async def aclose(self) -> None:
        await self._flight.aclose()

    async def _fetch(self, ids: list[str], deadline: Deadline | None) -> dict[str, SourceOutcome]:
        answers, latency_ms, fetched_at = await timed_answers(
            self.department,
            ids,
            lambda: self.resilience.call(ids, self.connector.fetch_many, deadline),
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
        """Stale-if-error: an expired entry still inside its stale window beats no data. It shows
        as `STALE`, or as `CIRCUIT_OPEN` when the registry was not asked at all (the row then
        says why the data is old, and `fromCache` that it is)."""
        cached = self.cache.get(subject_id)
        if cached is not None:
            entry = cached[0]
            circuit_open = isinstance(error, SourceCircuitOpen)
            return SourceOutcome(
                self.department,
                SourceState.CIRCUIT_OPEN if circuit_open else SourceState.STALE,
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


def _hand_over(
    future: asyncio.Future[SourceOutcome], shared: asyncio.Future[SourceOutcome]
) -> None:
    """A shared fetch's outcome (or failure) to one caller's future, unless that one has ended
    (its deadline came, or its caller cancelled it)."""
    if future.done():
        return
    if shared.cancelled():
        future.cancel()
    elif (error := shared.exception()) is not None:
        future.set_exception(error)
    else:
        future.set_result(shared.result())


def _found(record: SubjectRecord | None) -> SourceState:
    return SourceState.OK if record is not None else SourceState.NOT_FOUND
