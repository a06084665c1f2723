"""`Query.matters`: the published catalogue, readable by everyone."""

from __future__ import annotations

import strawberry

from resolvers.catalogue import Matter
from resolvers.context import RequestContext


def resolve_matters(
    info: strawberry.Info[RequestContext, None], department: str | None = None
) -> list[Matter]:
    return info.context.catalogue.of_department(department)
