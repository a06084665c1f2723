"""The public GraphQL contract: strawberry types bound to resolvers, and the assembled schema."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.plain_data import PlainDataCompiler, execution_context_class, plain_types
from schema.query import Query


class Schema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Log nothing here: most errors are the client's (bad ids, invalid queries), and the
        gateway logs the unexpected ones itself, with the request id, when it formats them."""


def build_schema() -> strawberry.Schema:
    """The schema, executing plain-data subtrees through the compiled fast path."""
    schema = Schema(query=Query)
    compiler = PlainDataCompiler(plain_types(schema._schema))
    schema.execution_context_class = execution_context_class(compiler)
    return schema


def export_sdl() -> str:
    """The schema in SDL, as checked in at schema/schema.graphql."""
    return build_schema().as_str() + "\n"
