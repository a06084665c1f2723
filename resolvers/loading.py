"""A subject's department outcomes while they are still arriving, and resolvers that wait for them.

A cold profile's departments answer one after another, about a millisecond apart (their requests
leave one after another from one event loop). Completing each section as its department answers
puts that work in the gaps between the answers, instead of completing every section after the
last one: a section field waits for its own department only, and every field that reads several
(`name`, `lists`, `grades`, `sources`, ...) waits for all. A subject whose records are all cached
is built from finished outcomes, and its fields stay plain synchronous functions.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from resolvers.outcome import SourceOutcome, failed_outcome

P = ParamSpec("P")
T = TypeVar("T")


class LoadingOutcomes(Mapping[str, SourceOutcome]):
    """Per department consulted, in section order: its outcome once its load has ended.

    Reading a department still loading is a bug (`asyncio.InvalidStateError`): a resolver waits
    first (`when_loaded`). A load that failed on the gateway's own path (a bug, not the
    registry's failure) reads as that department's `ERROR` outcome (`failed_outcome`, as
    `RequestContext.load` reports it)."""

    __slots__ = ("_futures",)

    def __init__(self, futures: Mapping[str, asyncio.Future[SourceOutcome]]) -> None:
        self._futures = futures

    def __getitem__(self, department: str) -> SourceOutcome:
        future = self._futures[department]
        error = future.exception()  # raises while loading, or if the load was cancelled
        return future.result() if error is None else failed_outcome(department, error)

    def __iter__(self) -> Iterator[str]:
        return iter(self._futures)

    def __len__(self) -> int:
        return len(self._futures)

    def loading(self, department: str | None = None) -> list[asyncio.Future[SourceOutcome]]:
        """The loads still running: of `department` (if consulted), or of every department."""
        if department is not None:
            future = self._futures.get(department)
            return [future] if future is not None and not future.done() else []
        return [future for future in self._futures.values() if not future.done()]


def when_loaded(
    resolver: Callable[P, T], department: str | None = None
) -> Callable[P, T | Awaitable[T]]:
    """`resolver` of a `Subject` field, run once the outcomes it reads have arrived: those of
    `department`, or of every department consulted. With nothing left loading it runs at once,
    synchronously, as before; otherwise graphql-core gets an awaitable and completes the field
    when it resolves. The root is the resolver's first argument (strawberry passes it by name)."""

    @functools.wraps(resolver)
    def resolve(*args: P.args, **kwargs: P.kwargs) -> T | Awaitable[T]:
        root = kwargs["root"] if "root" in kwargs else args[0]
        outcomes = getattr(root, "outcomes", None)
        if isinstance(outcomes, LoadingOutcomes):
            loading = outcomes.loading(department)
            if loading:
                return _after(loading, resolver, *args, **kwargs)
        return resolver(*args, **kwargs)

    return resolve


async def _after(
    loading: list[asyncio.Future[SourceOutcome]],
    resolver: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    await all_done(loading)
    return resolver(*args, **kwargs)


def all_done(futures: Sequence[asyncio.Future[Any]]) -> asyncio.Future[None]:
    """A future of the caller's own that ends when every one of `futures` has ended, however.

    Why not `asyncio.wait`, whose semantics these are: the loads are shared by every field of the
    subject (and the audit), so one field's cancellation must cancel none of them (which awaiting
    them directly, or `gather`, would), and their failures are read as outcomes, not raised here.
    `asyncio.wait` does that for about twice the work (a set, a coroutine, a release callback per
    future); about eight fields of a cold profile wait like this, and most of their waits end
    after its last department answers: work on the critical path. Cancelling the returned future
    cancels nothing else."""
    loop = futures[0].get_loop() if futures else asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    left = len(futures)
    if not left:
        waiter.set_result(None)
        return waiter

    def one_done(_: asyncio.Future[Any]) -> None:
        nonlocal left
        left -= 1
        if not left and not waiter.done():
            waiter.set_result(None)

    for future in futures:
        future.add_done_callback(one_done)
    return waiter
