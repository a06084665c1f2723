"""Call counters of a reference registry, read by tests that assert how the gateway calls upstream.

A request is counted when it reaches its route, before any injected fault, so a retry after a 500
or a request that hung both show up: the counters measure what the gateway sent, not what the
registry managed to answer.
"""

from __future__ import annotations

from collections import deque

ROUTES = ("single", "batch", "list", "health")
BATCH_SIZES_KEPT = 100_000


class RegistryStats:
    """Counts per route, ids requested (1 per single lookup, the batch size per batch)."""

    def __init__(self) -> None:
        self._calls = dict.fromkeys(ROUTES, 0)
        self._ids_requested = 0
        self._batch_sizes: deque[int] = deque(maxlen=BATCH_SIZES_KEPT)

    def count(self, route: str, ids: int | None = 0) -> None:
        """One call of `route` asking for `ids` subjects (None: a batch body that did not parse)."""
        self._calls[route] += 1
        if ids is None:
            return
        self._ids_requested += ids
        if route == "batch":
            self._batch_sizes.append(ids)

    def calls(self, route: str) -> int:
        return self._calls[route]

    @property
    def ids_requested(self) -> int:
        return self._ids_requested

    @property
    def batch_sizes(self) -> list[int]:
        """Sizes of the most recent batches (the last 100,000), oldest first."""
        return list(self._batch_sizes)

    def snapshot(self) -> dict[str, int | list[int]]:
        """The JSON of ``GET /admin/stats``."""
        return {
            **self._calls,
            "ids_requested": self._ids_requested,
            "batch_sizes": self.batch_sizes,
        }

    def reset(self) -> None:
        self._calls = dict.fromkeys(ROUTES, 0)
        self._ids_requested = 0
        self._batch_sizes.clear()
