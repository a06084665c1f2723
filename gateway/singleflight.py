"""Single-flight for batches of keys: concurrent callers asking for one key share one call.

No library does this for asyncio with batches, so it is written here and kept small. The shared call
runs in a task of its own: a caller that is cancelled (its client went away) stops waiting, but the
call goes on for everyone else who joined it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._inflight: dict[K, asyncio.Future[V]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    async def run(
        self, keys: Sequence[K], fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]]
    ) -> dict[K, V]:
        """Values of `keys`: keys already in flight are joined, the rest fetched in one call.

        `fetch` must return a value for every key it is given; if it raises, every caller waiting
        on those keys gets the exception.
        """
        waiting = self.start(keys, fetch)
        keys_waited = list(waiting)
        if len(keys_waited) == 1:
            values = [await asyncio.shield(waiting[keys_waited[0]])]
        else:
            values = await asyncio.shield(asyncio.gather(*waiting.values()))
        return dict(zip(keys_waited, values, strict=True))

    def start(
        self, keys: Sequence[K], fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]]
    ) -> dict[K, asyncio.Future[V]]:
        """The shared future of each of `keys`, without waiting: keys in flight are joined, the
        rest fetched in one call that starts now, in its own task.

        The futures are shared by every caller: a caller must not await one in a task that may be
        cancelled (that would cancel it for everyone), but shield it (`run`) or hand its result
        on to a future of its own (`gateway.source.Source.start`)."""
        waiting: dict[K, asyncio.Future[V]] = {}
        new: list[K] = []
        for key in keys:
            joined = self._inflight.get(key)
            if joined is None:
                new.append(key)
            else:
                waiting[key] = joined
        if new:
            loop = asyncio.get_running_loop()
            futures: dict[K, asyncio.Future[V]] = {key: loop.create_future() for key in new}
            for future in futures.values():
                future.add_done_callback(_consume_exception)
            self._inflight.update(futures)
            waiting.update(futures)
            task = loop.create_task(self._lead(new, futures, fetch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return waiting

    async def _lead(
        self,
        keys: list[K],
        futures: dict[K, asyncio.Future[V]],
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
    ) -> None:
        try:
            values = await fetch(keys)
            for key, future in futures.items():
                if not future.done():
                    future.set_result(values[key])
        except asyncio.CancelledError:
            for future in futures.values():
                future.cancel()
            raise
        except Exception as exc:  # handed to every waiter, who decides what it means
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)
        finally:
            for key, future in futures.items():
                if self._inflight.get(key) is future:
                    del self._inflight[key]

    async def aclose(self) -> None:
        """Cancel calls still in flight (at shutdown) and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Mark an exception as seen: its waiters may all have gone away, which is not an error."""
    if not future.cancelled():
        future.exception()
