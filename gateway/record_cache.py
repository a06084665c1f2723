"""The in-memory (L1) cache of one department's records, with a stale window.

One `cachetools.TTLCache` holds each entry for `ttl + stale_ttl`: within `ttl` it is fresh and
served without asking the registry; after that it is only kept so that it can be served as `STALE`
if the registry fails. Raw records are cached, never filtered views, so nothing cached depends on
who asked. The event loop is the only user, so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cachetools import TTLCache

from connectors.records import SubjectRecord


@dataclass(frozen=True, slots=True)
class CacheEntry:
    record: SubjectRecord | None
    """`None` records that the registry does not hold the subject (a cached 404)."""
    fetched_at: datetime
    stored_at: float


class RecordCache:
    def __init__(
        self,
        ttl_s: float,
        stale_ttl_s: float,
        max_entries: int,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._timer = timer
        self._enabled = max_entries > 0 and ttl_s + stale_ttl_s > 0
        self._entries: TTLCache[str, CacheEntry] = TTLCache(
            maxsize=max(max_entries, 1), ttl=max(ttl_s + stale_ttl_s, 1e-9), timer=timer
        )

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> tuple[CacheEntry, bool] | None:
        """The entry and whether it is still fresh; `None` when nothing usable is kept."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        return entry, self._timer() - entry.stored_at < self._ttl

    def put(self, key: str, record: SubjectRecord | None, fetched_at: datetime) -> None:
        if self._enabled:
            self._entries[key] = CacheEntry(record, fetched_at, self._timer())

    def invalidate(self, key: str) -> bool:
        return self._entries.pop(key, None) is not None

    def clear(self) -> None:
        self._entries.clear()
