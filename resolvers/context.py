"""The per-request context through which resolvers reach the app's services.

Resolvers never import the gateway: the gateway builds this context for each request and hands in
what resolvers need as narrow protocols. Loaders are per request (strawberry DataLoaders), so a
query naming many subjects makes one batched call per department, and two fields needing the same
record share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from strawberry.dataloader import DataLoader

from connectors.records import today_in_china
from resolvers.outcome import SourceOutcome


class SourceLoader(Protocol):
    """A department's records through the shared cache (the gateway's `Source`)."""

    async def load_many(self, ids: Sequence[str]) -> list[SourceOutcome]: ...


@dataclass(slots=True)
class RequestContext:
    request_id: str
    sources: Mapping[str, SourceLoader]
    """The enabled departments, in the order their sections are listed."""
    max_batch: int = 100
    today: date = field(default_factory=today_in_china)
    _loaders: dict[str, DataLoader[str, SourceOutcome]] = field(default_factory=dict)

    async def load(self, department: str, subject_id: str) -> SourceOutcome:
        loader = self._loaders.get(department)
        if loader is None:
            loader = DataLoader(load_fn=self.sources[department].load_many)
            self._loaders[department] = loader
        return await loader.load(subject_id)

    async def load_all(self, departments: Sequence[str], subject_id: str) -> list[SourceOutcome]:
        """Outcomes of several departments for one subject, fetched concurrently."""
        return list(await asyncio.gather(*(self.load(d, subject_id) for d in departments)))
