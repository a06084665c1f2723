"""The per-request context through which resolvers reach the app's services.

Resolvers never import the gateway: the gateway builds this context for each request and hands in
what resolvers need as narrow protocols. Loaders are per request (strawberry DataLoaders), so
several `subject` fields of one query (aliases) share one batched call per department.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from strawberry.dataloader import DataLoader

from connectors.deadline import Deadline
from connectors.records import today_in_china
from connectors.upstream import UpstreamParts
from resolvers.catalogue import Catalogue
from resolvers.identifiers import SubjectId, parse_subject_id
from resolvers.loading import all_done
from resolvers.lookups import Lookup, OfficerLookup
from resolvers.measures import Measure
from resolvers.outcome import SourceOutcome, failed_outcome
from resolvers.principal import ANONYMOUS, Principal

if TYPE_CHECKING:
    from resolvers.usage import UsageReader

log = logging.getLogger(__name__)


class SourceLoader(Protocol):
    """A department's records through the shared cache (the gateway's `Source`), within the
    request's deadline: a department still pending then is a `TIMEOUT` for this request."""

    async def load_many(
        self, ids: Sequence[str], deadline: Deadline | None = None
    ) -> list[SourceOutcome]: ...

    def start(
        self, ids: Sequence[str], deadline: Deadline | None = None
    ) -> list[asyncio.Future[SourceOutcome]]:
        """`load_many`'s outcomes as futures, the loads started now (for fetching ahead)."""
        ...

    def fresh(self, subject_id: str) -> bool:
        """Whether a fresh record of `subject_id` is cached (nothing to fetch ahead)."""
        ...

    def cached(self, subject_id: str) -> SourceOutcome | None:
        """The outcome of a fresh cached record of `subject_id` (what `load_many` would give
        for it), or `None`."""
        ...


class UpstreamLoader(Protocol):
    """A lower-level gateway (the gateway's `UpstreamSource`): what it answers depends on who
    asks and for which matter, so the principal and matter go with every call (the gateway turns
    them into a service token; resolvers know nothing of tokens)."""

    @property
    def departments(self) -> tuple[str, ...]:
        """The departments it is asked about, in section order."""
        ...

    async def load_many(
        self,
        ids: Sequence[str],
        principal: Principal,
        matter: str | None,
        parts: UpstreamParts,
        request_id: str,
        deadline: Deadline | None = None,
    ) -> list[SourceOutcome]: ...


@dataclass(slots=True)
class RequestContext:
    request_id: str
    sources: Mapping[str, SourceLoader]
    """The enabled departments, in the order their sections are listed."""
    principal: Principal = ANONYMOUS
    catalogue: Catalogue = field(default_factory=lambda: Catalogue(()))
    usage: UsageReader | None = None
    """Reads usage from the audit store."""
    lookups: list[Lookup] = field(default_factory=list)
    """Every subject this request asked for, for the audit (`record_lookup`)."""
    on_lookup: Callable[[Lookup, RequestContext], None] | None = None
    """Called with each lookup (and this context) as a resolver records it: for a looked-up
    subject, while its loads are still in flight. The gateway drafts the lookup's audit entry
    then, so that little of it is left for after the last answer."""
    max_batch: int = 100
    measures: Sequence[Measure] = ()
    """The joint measures catalogue, in its file's order."""
    officer_lookups: list[OfficerLookup] = field(default_factory=list)
    """Legal representatives consulted for joint measures, for the audit."""
    today: date = field(default_factory=today_in_china)
    upstreams: Mapping[str, UpstreamLoader] = field(default_factory=dict)
    """Lower-level gateways consulted as sources, by key."""
    deadline: Deadline | None = None
    """When every upstream call of this request must have ended (`[graphql] deadline_s` after
    the request arrived); `None`: only the connectors' own timeouts bound it."""
    plans: MutableMapping[Hashable, object] = field(default_factory=dict)
    """Load plans by what they were planned from: the query's cost, the fetch ahead and the
    resolver plan the same `subject` field with the same plan (resolvers/subject.py). The app
    passes its own bounded map (`Services.load_plans`), so that plans outlive the request; a
    plan's key holds everything it was made from, the principal included."""
    _subject_ids: dict[str, SubjectId] = field(default_factory=dict)
    _loaders: dict[str, DataLoader[str, SourceOutcome]] = field(default_factory=dict)
    _loading: list[asyncio.Future[SourceOutcome]] = field(default_factory=list)
    _upstream_loaders: dict[
        tuple[str, str | None, UpstreamParts], DataLoader[str, SourceOutcome]
    ] = field(default_factory=dict)

    def subject_id(self, raw: str) -> SubjectId:
        """`raw` validated (`parse_subject_id`): once per request, however often it is planned
        (checking a unified social credit code costs ~20 us)."""
        known = self._subject_ids.get(raw)
        if known is None:
            known = self._subject_ids[raw] = parse_subject_id(raw, self.today)
        return known

    def record_lookup(self, lookup: Lookup) -> None:
        """Add `lookup` to `lookups`, and tell `on_lookup`."""
        self.lookups.append(lookup)
        if self.on_lookup is not None:
            self.on_lookup(lookup, self)

    def extends_to_officers(self, measure_ids: Iterable[str]) -> bool:
        """Whether any of these measures also applies because of a company's officers."""
        wanted = set(measure_ids)
        return any(m.extends_to_officers for m in self.measures if m.id in wanted)

    def not_loaded(
        self, wanted: Iterable[tuple[str, Sequence[str]]]
    ) -> list[tuple[str, list[str]]]:
        """Of `wanted`, the ids neither cached fresh nor already being loaded by this request."""
        missing = []
        for department, ids in wanted:
            source = self.sources[department]
            loader = self._loader(department)
            fetch = [
                i
                for i in dict.fromkeys(ids)
                if loader.cache_map.get(i) is None and not source.fresh(i)
            ]
            if fetch:
                missing.append((department, fetch))
        return missing

    def cached(self, wanted: Iterable[tuple[str, Sequence[str]]]) -> bool:
        """Whether a fresh record of every (department, ids) pair is cached: nothing to wait for
        (`fresh_outcomes` reads them, when the caller needs the outcomes too)."""
        return all(self.sources[d].fresh(i) for d, ids in wanted for i in ids)

    def fresh_outcomes(
        self, wanted: Iterable[tuple[str, Sequence[str]]]
    ) -> dict[tuple[str, str], SourceOutcome] | None:
        """The outcomes of (department, ids) pairs read from the cache now, when a fresh record of
        every one is cached (keyed as `load` keys them); `None` when one is not, for `load`.

        Why not `load`: for a warm lookup its loaders cost a task, a batch and a loop turn per
        department to return what the cache holds (about a tenth of a warm profile's CPU)."""
        outcomes: dict[tuple[str, str], SourceOutcome] = {}
        for department, ids in wanted:
            source = self.sources[department]
            for subject_id in ids:
                outcome = source.cached(subject_id)
                if outcome is None:
                    return None
                outcomes[(department, subject_id)] = outcome
        return outcomes

    def start_loads(
        self, wanted: Iterable[tuple[str, Sequence[str]]]
    ) -> dict[tuple[str, str], asyncio.Future[SourceOutcome]]:
        """The loads of (department, ids) pairs, started (batched as `load` batches them) but not
        waited for: each outcome as its own future, for resolvers that use each as it arrives.
        `settled` waits for every one of them."""
        futures: dict[tuple[str, str], asyncio.Future[SourceOutcome]] = {}
        for department, ids in wanted:
            loader = self._loader(department)
            for subject_id in ids:
                future = loader.load(subject_id)
                assert isinstance(future, asyncio.Future)
                futures[(department, subject_id)] = future
        self._loading.extend(futures.values())
        return futures

    async def settled(self) -> None:
        """Wait for every load started by `start_loads` to end (each ends by the request's
        deadline): what the audit reads of this request must be final. Waiting does not cancel
        them, nor raise their failures (they are outcomes)."""
        loading = [future for future in self._loading if not future.done()]
        if loading:
            await all_done(loading)

    def prefetch(self, missing: Iterable[tuple[str, list[str]]]) -> None:
        """Start loading, now, records a resolver of this request is about to ask for
        (`not_loaded`), and hand their outcomes to the request's loaders: the resolver's own
        load finds them in flight instead of starting them a few loop turns later.

        The caller guarantees the resolver will ask for every one of them (the same plan, after
        the same checks): a registry is never asked for what the request will not read. A
        department whose loads could not be started (a bug) is left to the resolver's own load,
        which reports it at its path."""
        for department, ids in missing:
            try:
                futures = self.sources[department].start(ids, self.deadline)
            except Exception as exc:  # the message may carry data: its type only
                log.error(
                    "fetching ahead from %s failed (%s); left to the resolver",
                    department,
                    type(exc).__name__,
                )
                continue
            cache_map = self._loader(department).cache_map
            for subject_id, future in zip(ids, futures, strict=True):
                cache_map.set(subject_id, future)

    def _loader(self, department: str) -> DataLoader[str, SourceOutcome]:
        loader = self._loaders.get(department)
        if loader is None:
            source = self.sources[department]

            async def load_fn(ids: Sequence[str]) -> list[SourceOutcome]:
                return await source.load_many(ids, self.deadline)

            loader = DataLoader(load_fn=load_fn)
            self._loaders[department] = loader
        return loader

    def _upstream_loader(
        self, key: str, matter: str | None, parts: UpstreamParts
    ) -> DataLoader[str, SourceOutcome]:
        """One per upstream, matter and parts asked: `subject` fields of one query (aliases)
        asking the same share one call."""
        loader = self._upstream_loaders.get((key, matter, parts))
        if loader is None:
            upstream = self.upstreams[key]

            async def load_fn(ids: Sequence[str]) -> list[SourceOutcome]:
                return await upstream.load_many(
                    ids, self.principal, matter, parts, self.request_id, self.deadline
                )

            loader = DataLoader(load_fn=load_fn)
            self._upstream_loaders[(key, matter, parts)] = loader
        return loader

    async def load(
        self,
        wanted: Iterable[tuple[str, Sequence[str]]],
        upstreams: Iterable[tuple[str, UpstreamParts]] = (),
        subject_ids: Sequence[str] = (),
        matter: str | None = None,
    ) -> dict[tuple[str, str], SourceOutcome]:
        """Outcomes for (department, subject ids) pairs, and of `subject_ids` from each
        (upstream, parts) pair for `matter`: all concurrently, each in one batch. Keyed by
        (department or upstream key, subject id)."""
        plan = [(department, list(ids)) for department, ids in wanted if ids]
        calls = [self._loader(department).load_many(ids) for department, ids in plan]
        if subject_ids:
            for key, parts in upstreams:
                plan.append((key, list(subject_ids)))
                calls.append(self._upstream_loader(key, matter, parts).load_many(subject_ids))
        answers = await asyncio.gather(*calls, return_exceptions=True)
        loaded: dict[tuple[str, str], SourceOutcome] = {}
        for (department, ids), answer in zip(plan, answers, strict=True):
            if isinstance(answer, BaseException):
                failed = failed_outcome(department, answer)
                loaded.update(((department, subject_id), failed) for subject_id in ids)
            else:
                loaded.update(zip(((department, i) for i in ids), answer, strict=True))
        return loaded
