"""The public GraphQL contract: strawberry types bound to resolvers, and the assembled schema."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from strawberry.extensions import SchemaExtension

from schema.query import Query


def build_schema(
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
) -> strawberry.Schema:
    """The schema; the gateway adds its extensions (caches, limits), tools build it bare."""
    return strawberry.Schema(query=Query, extensions=list(extensions))


def export_sdl() -> str:
    """The schema in SDL, as checked in at schema/schema.graphql."""
    return build_schema().as_str() + "\n"
