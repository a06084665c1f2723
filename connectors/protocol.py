"""The `Connector` protocol: what the gateway needs from a department registry.

A connector knows nothing of GraphQL, principals or caching: it turns subject ids into validated
records. Failures of the whole call raise `SourceError`; a single record that fails validation is
returned as a `SourceBadResponse` in its slot, so one bad record does not spoil a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from connectors.errors import SourceError
from connectors.records import SubjectRecord

FetchResult = Mapping[str, SubjectRecord | SourceError | None]
"""Per requested id: its record, `None` when the registry does not hold it, or why it failed."""


@runtime_checkable
class Connector(Protocol):
    """A source of one department's records."""

    @property
    def department(self) -> str:
        """The department key (`environment`, `commerce`, ...)."""
        ...

    async def fetch_many(self, ids: Sequence[str]) -> FetchResult:
        """Records of these (normalised, distinct) ids; raises `SourceError` if the call fails."""
        ...

    async def check_health(self) -> bool:
        """Whether the registry answers its health endpoint now."""
        ...
