"""Parse and validate each distinct query once per app, keyed by its text.

strawberry's `ParserCache` and `ValidationCache` do this through four extensions and a validation
cache keyed by the parsed document, whose hash walks the whole syntax tree on every request (a tenth
of a warm request here). One extension with two LRU maps keyed by the query string does the same
work for a dictionary lookup, and keeps the caches on the app instead of at module level.

It also refuses a document of several operations sent without `operationName`: graphql-core does,
but strawberry runs the first operation, and guessing which one the client meant is how a request
ends up doing something else than intended.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cachetools import LRUCache
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from resolvers.errors import ErrorCode


class PreparedQueries:
    """The per-app caches of parsed documents and of their validation errors."""

    def __init__(
        self,
        rules: Sequence[type[ASTValidationRule]],
        max_tokens: int,
        parse_cache_size: int,
        validation_cache_size: int,
    ) -> None:
        self.rules = tuple(rules)
        self.max_tokens = max_tokens
        self._documents: LRUCache[str, DocumentNode] = LRUCache(maxsize=max(parse_cache_size, 1))
        self._errors: LRUCache[str, list[GraphQLError]] = LRUCache(
            maxsize=max(validation_cache_size, 1)
        )

    def parse(self, query: str) -> DocumentNode:
        """The document; a syntax error (or too many tokens) raises and is not cached."""
        document = self._documents.get(query)
        if document is None:
            document = parse(query, max_tokens=self.max_tokens)
            self._documents[query] = document
        return document

    def validate(
        self,
        query: str,
        document: DocumentNode,
        schema: GraphQLSchema,
        schema_rules: Sequence[type[ASTValidationRule]],
    ) -> list[GraphQLError]:
        """Validation errors of the document (the schema's rules and the gateway's limits)."""
        errors = self._errors.get(query)
        if errors is None:
            errors = validate_document(schema, document, (*schema_rules, *self.rules))
            self._errors[query] = errors
        return errors


class QueryPreparation(SchemaExtension):
    def __init__(self, prepared: PreparedQueries) -> None:
        self._prepared = prepared

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            context.graphql_document = self._prepared.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.query is not None and document is not None:
            errors = self._prepared.validate(
                context.query, document, context.schema._schema, context.validation_rules
            )
            # `operation_name` falls back to the first operation; what the client sent is private
            if context._provided_operation_name is None and _operation_count(document) > 1:
                errors = [*errors, _name_required()]
            context.pre_execution_errors = errors
        yield


def _operation_count(document: DocumentNode) -> int:
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)


def _name_required() -> GraphQLError:
    return GraphQLError(
        "The document defines several operations: say which to run in `operationName`.",
        extensions={"code": ErrorCode.BAD_REQUEST.value},
    )
