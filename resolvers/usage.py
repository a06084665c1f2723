"""`Query.usage`: how credit records were used, per department, matter and outcome (from the audit).

The plan asks for usage to be reported and published; the audit store already holds one entry per
lookup, so the report is a query over it, not a second set of counters that could disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Protocol

import strawberry

from resolvers.context import RequestContext
from resolvers.errors import CodedError, ErrorCode


class UsageRowLike(Protocol):
    @property
    def department(self) -> str | None: ...
    @property
    def matter(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def lookups(self) -> int: ...


class UsageReader(Protocol):
    async def __call__(
        self, from_: datetime, to: datetime, department: str | None = None
    ) -> Sequence[UsageRowLike]: ...


async def resolve_usage(
    info: strawberry.Info[RequestContext, None],
    from_: Annotated[
        datetime, strawberry.argument(name="from", description="Start of the period (inclusive).")
    ],
    to: Annotated[datetime, strawberry.argument(description="End of the period (exclusive).")],
    department: Annotated[
        str | None, strawberry.argument(description="Only the officials of this department.")
    ] = None,
) -> Sequence[UsageRowLike]:
    if from_.tzinfo is None or to.tzinfo is None:
        raise CodedError(ErrorCode.BAD_REQUEST, "`from` and `to` need a time zone, e.g. +08:00.")
    if to <= from_:
        raise CodedError(ErrorCode.BAD_REQUEST, "`to` must be after `from`.")
    reader = info.context.usage
    if reader is None:
        raise CodedError(ErrorCode.AUDIT_UNAVAILABLE, "No audit store is configured.")
    return await reader(from_, to, department)
