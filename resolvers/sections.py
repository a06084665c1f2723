"""Department sections, and the lists and grades gathered across departments.

A section resolver returns the department's validated record as it is: its fields are read as plain
attributes by the GraphQL layer, with no resolver per leaf. A department that failed raises its
`SourceError`, so its section is `null` with the error at its path while the others resolve.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from connectors.errors import SourceError, SourceState
from connectors.records import Grade, ListCategory, ListEntry, SubjectRecord
from resolvers.context import RequestContext
from resolvers.outcome import SourceOutcome
from resolvers.subject import SubjectRef

SectionResolver = Callable[
    [SubjectRef, strawberry.Info[RequestContext, None]], Awaitable[SubjectRecord | None]
]

_LIST_ORDER = {ListCategory.BLACK: 0, ListCategory.WATCH: 1, ListCategory.RED: 2}


def section_resolver(department: str) -> SectionResolver:
    """The resolver of one department's section of `Subject`."""

    async def resolve(
        root: SubjectRef, info: strawberry.Info[RequestContext, None]
    ) -> SubjectRecord | None:
        if department not in info.context.sources:
            raise SourceError(department, "is not configured on this gateway")
        return record_or_raise(await info.context.load(department, root.id))

    resolve.__name__ = f"resolve_{department}"
    return resolve


def record_or_raise(outcome: SourceOutcome) -> SubjectRecord | None:
    if outcome.state in (SourceState.OK, SourceState.STALE, SourceState.NOT_FOUND):
        return outcome.record
    assert outcome.error is not None
    raise outcome.error


async def resolve_lists(
    root: SubjectRef, info: strawberry.Info[RequestContext, None]
) -> list[ListEntry]:
    """Every list entry held by the departments consulted: black first, then newest first.

    A department that failed contributes nothing here; its `sources` row says so.
    """
    entries = [
        entry for record in await _records(root, info.context) for entry in record.list_entries
    ]
    entries.sort(key=lambda e: (_LIST_ORDER[e.category], -e.entered_on.toordinal()))
    return entries


async def resolve_grades(
    root: SubjectRef, info: strawberry.Info[RequestContext, None]
) -> list[Grade]:
    grades = [grade for record in await _records(root, info.context) for grade in record.grades]
    grades.sort(key=lambda g: (g.scheme, -g.assessed_on.toordinal()))
    return grades


async def _records(root: SubjectRef, context: RequestContext) -> list[SubjectRecord]:
    outcomes = await context.load_all(root.consulted, root.id)
    return [outcome.record for outcome in outcomes if outcome.record is not None]
