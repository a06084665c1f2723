"""The gateway's GraphQL pipeline: cached parse, cached validation with limits, then graphql-core.

strawberry defines the schema and binds the resolvers; running a request is done here, directly on
graphql-core, because strawberry's per-request machinery (execution context, extension runner,
operation checks) cost a quarter of a millisecond before the first resolver ran, on a path where the
gateway's whole own work is about two. What it did for us is small and explicit here:

- parse once per distinct query text (with the token limit), validate once per query text (the
  schema's rules plus the gateway's depth and alias limits), both in per-app LRU maps;
- pick the operation (`operationName` required when the document defines several), serve queries
  only;
- plan access, then check the query's cost (records it would ask for) against the principal's
  budget: both need the request's variables, and both refuse before anything is fetched;
- execute with strawberry's execution context, extended with the plain-data fast path.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import strawberry
from cachetools import LRUCache
from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSyntaxError,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    VariableDefinitionNode,
    execute,
    parse,
    specified_rules,
)
from graphql.execution.values import get_variable_values
from graphql.validation.validate import ValidationAbortedError
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import validate_document

from gateway.access_plan import (
    AccessPlan,
    VariablesInvalid,
    fill_denied,
    plan_access,
    uses_variable_directives,
)
from gateway.policy import Policy
from gateway.query_cost import LookupField, OperationLookups, cost_over_budget
from gateway.query_limits import alias_limit, depth_limit
from gateway.settings import GraphQLSettings
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode
from resolvers.principal import Principal
from resolvers.subject import planned_loads

MAX_INTROSPECTION_DEPTH = 20
_TOO_MANY_TOKENS = "Document contains more than"
_NESTED_TOO_DEEPLY = "nested too deeply"


class Refusal(enum.Enum):
    """Why a request was refused before execution, beyond what validation reports."""

    NO_OPERATION = "no operation"
    NOT_A_QUERY = "not a query"
    FORBIDDEN = "forbidden"
    TOO_COSTLY = "too costly"
    """The query would ask for more records than the principal's cost budget."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed query and what is known of it without the request: computed once per query text."""

    document: DocumentNode
    operations: dict[str | None, OperationDefinitionNode]
    """By name; `None` names the operation of a document that has exactly one."""
    variable_directives: bool
    """`@skip`/`@include` read variables, so what is requested depends on the request."""

    @classmethod
    def of(cls, document: DocumentNode) -> Prepared:
        found = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operations: dict[str | None, OperationDefinitionNode] = {
            op.name.value: op for op in found if op.name is not None
        }
        if len(found) == 1:
            operations[None] = found[0]
        return cls(document, operations, uses_variable_directives(document))


@dataclass(frozen=True, slots=True)
class Result:
    data: dict[str, Any] | None
    errors: Sequence[GraphQLError]
    executed: bool
    """False when refused before any field ran (syntax, validation, variables, operation)."""
    refusal: Refusal | None = None
    plan: AccessPlan | None = None
    operation: OperationDefinitionNode | None = None


class Executor:
    def __init__(
        self,
        schema: strawberry.Schema,
        settings: GraphQLSettings,
        policy: Policy,
        strict: bool = False,
    ) -> None:
        self._policy = policy
        self._strict = strict
        self._schema = schema._schema
        self._context_class = schema.execution_context_class
        self._rules: tuple[type[ASTValidationRule], ...] = (
            *specified_rules,
            depth_limit(settings.max_depth, MAX_INTROSPECTION_DEPTH),
            alias_limit(settings.max_aliases),
        )
        self._max_tokens = settings.max_tokens
        self._documents: LRUCache[str, Prepared] = LRUCache(
            maxsize=max(settings.parser_cache_size, 1)
        )
        self._validation: LRUCache[str, list[GraphQLError]] = LRUCache(
            maxsize=max(settings.validation_cache_size, 1)
        )
        self._plans: LRUCache[tuple[str, str | None, frozenset[str]], _Planned] = LRUCache(
            maxsize=max(settings.validation_cache_size, 1)
        )

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: RequestContext,
        principal: Principal,
    ) -> Result:
        try:
            prepared = self._parse(query)
        except GraphQLError as error:
            return Result(None, [error], executed=False)
        document = prepared.document
        operation = prepared.operations.get(operation_name)
        if operation is None:
            return Result(
                None, [_no_operation(document, operation_name)], False, Refusal.NO_OPERATION
            )
        if operation.operation is not OperationType.QUERY:
            refused = GraphQLError("Only queries are served here.", operation)
            return Result(None, [refused], False, Refusal.NOT_A_QUERY)
        errors = self._validate(query, document)
        if errors:
            return Result(None, errors, executed=False)
        try:
            plan, planned, lookups_in = self._plan(query, prepared, operation, variables, principal)
        except VariablesInvalid as invalid:
            return Result(None, invalid.errors, executed=False)
        if plan.denied and self._strict:
            refused = GraphQLError(
                "Your role may not read "
                + ", ".join(sorted(plan.denied_coordinates))
                + "; nothing was executed.",
                extensions={"code": ErrorCode.FORBIDDEN.value},
            )
            return Result(None, [refused], False, Refusal.FORBIDDEN, plan, operation)
        lookups = lookups_in.of(variables)
        too_costly = self._over_budget(lookups, operation, context, principal)
        if too_costly is not None:
            return Result(None, [too_costly], False, Refusal.TOO_COSTLY, plan, operation)
        if lookups:
            await self._start_ahead(
                self._fetch_ahead(lookups, planned, variables, context), context
            )
        outcome = execute(
            self._schema,
            plan.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=self._context_class,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        )
        result = outcome if isinstance(outcome, ExecutionResult) else await outcome
        await context.settled()  # what the audit reads of the lookups is final
        errors = [*(result.errors or []), *fill_denied(result.data, plan)]
        # Variables that do not coerce give no data and errors without a path; a field's have one.
        executed = result.data is not None or any(error.path is not None for error in errors)
        return Result(result.data, errors, executed, plan=plan, operation=operation)

    @staticmethod
    async def _start_ahead(missing: list[tuple[str, list[str]]], context: RequestContext) -> None:
        """Start `missing`'s loads, the first department's in a loop turn of its own: its request
        leaves before the others are even started, then theirs leave, and graphql-core's set-up
        and the resolvers run while all of them travel.

        Why the first apart: from a cold profile's first answer the gateway is busy until it
        responds (docs/performance.md), so its response is timed by the first request's departure
        more than by the last's. Served A/B in one run (4 pairs, 400 cold profiles each): -0.06 ms
        at p50 on average; the other departments leave one loop turn later."""
        if not missing:
            return
        context.prefetch(missing[:1])
        await asyncio.sleep(0)
        if len(missing) > 1:
            context.prefetch(missing[1:])
            await asyncio.sleep(0)

    def _fetch_ahead(
        self,
        lookups: Sequence[LookupField],
        planned: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        context: RequestContext,
    ) -> list[tuple[str, list[str]]]:
        """The department loads of lookups of uncached subjects to start before execution
        (`resolvers.subject.planned_loads`), and only when execution will reach the resolvers:
        the variables must coerce (the access plan is cached per query and does not coerce them
        for each request). Empty when there is nothing to fetch ahead."""
        # Only for a subject no department has a fresh record of (a first lookup): a warm
        # request decides that in one dictionary lookup per id and pays nothing more; a subject
        # partly cached is left to its resolver, as without fetching ahead.
        sources = context.sources.values()
        if not any(
            not any(source.fresh(i) for source in sources) for lookup in lookups for i in lookup.ids
        ):
            return []
        missing = context.not_loaded(
            load
            for lookup in lookups
            for load in planned_loads(
                context, lookup.ids, lookup.matter, lookup.fields, lookup.measure_matters
            )
        )
        if not missing:
            return []
        definitions = planned.variable_definitions
        if definitions and not coerces_plainly(definitions, variables or {}):
            coerced = get_variable_values(self._schema, definitions, variables or {})
            if isinstance(coerced, list):
                return []  # execution will refuse the variables and read nothing
        return missing

    def _over_budget(
        self,
        lookups: Sequence[LookupField],
        operation: OperationDefinitionNode,
        context: RequestContext,
        principal: Principal,
    ) -> GraphQLError | None:
        """QUERY_TOO_COMPLEX when the query would ask for more records than the principal's
        budget, computed on the plan's document (what will run, denied fields removed) and
        reported at the operation as written."""
        if not lookups:
            return None
        budget = self._policy.max_cost(principal.roles)
        cost = cost_over_budget(lookups, context, budget)
        if cost is None:
            return None
        return GraphQLError(
            f"The query would ask the registries for {cost} records (subjects × sections); "
            f"your budget is {budget} per query. Ask for fewer subjects or sections per query.",
            operation,
            extensions={
                "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                "cost": cost,
                "maxCost": budget,
            },
        )

    def _plan(
        self,
        query: str,
        prepared: Prepared,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        principal: Principal,
    ) -> _Planned:
        """The access plan and its lookups, cached per query, operation and roles unless
        directives read variables (then what is requested depends on the request)."""
        document = prepared.document
        if prepared.variable_directives:
            grants = self._policy.grants(principal.roles)
            return _Planned.of(plan_access(self._schema, document, operation, variables, grants))
        key = (query, operation.name.value if operation.name else None, principal.roles)
        cached = self._plans.get(key)
        if cached is None:
            grants = self._policy.grants(principal.roles)
            cached = _Planned.of(plan_access(self._schema, document, operation, variables, grants))
            self._plans[key] = cached
        return cached

    def _parse(self, query: str) -> Prepared:
        prepared = self._documents.get(query)
        if prepared is None:
            try:
                document = parse(query, max_tokens=self._max_tokens)
            except GraphQLSyntaxError as error:
                # graphql-core reports its limits as syntax errors: the token limit, and nesting
                # deeper than its parser recurses (200 levels); they are limits, with their codes.
                if _TOO_MANY_TOKENS in error.message:
                    message = f"The query has more than {self._max_tokens} tokens."
                    code = ErrorCode.QUERY_TOO_COMPLEX
                elif _NESTED_TOO_DEEPLY in error.message:
                    message = "The query is nested too deeply to be read."
                    code = ErrorCode.QUERY_TOO_DEEP
                else:
                    raise
                raise GraphQLError(
                    message,
                    source=error.source,
                    positions=error.positions,
                    extensions={"code": code.value},
                ) from error
            prepared = Prepared.of(document)
            self._documents[query] = prepared
        return prepared

    def _validate(self, query: str, document: DocumentNode) -> list[GraphQLError]:
        errors = self._validation.get(query)
        if errors is None:
            errors = [_coded(e) for e in validate_document(self._schema, document, self._rules)]
            self._validation[query] = errors
        return errors


class _Planned(NamedTuple):
    """An access plan, the operation it executes (its document's only one) and that operation's
    lookups: derived together, once per cached plan."""

    plan: AccessPlan
    operation: OperationDefinitionNode
    lookups: OperationLookups

    @classmethod
    def of(cls, plan: AccessPlan) -> _Planned:
        operation = plan.document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        return cls(plan, operation, OperationLookups(operation))


_PLAIN_SCALARS = frozenset({"ID", "String"})


def coerces_plainly(
    definitions: Sequence[VariableDefinitionNode], variables: Mapping[str, Any]
) -> bool:
    """Whether graphql-core will surely accept `variables` for `definitions`, seen without it:
    every variable an `ID` or a `String` (no default), given as a string, or null or left out
    where it may be. The common lookup (`$id: ID!, $matter: ID`) is checked this way before its
    requests leave; anything else is coerced by graphql-core, which this must never contradict
    (a test compares the two)."""
    for definition in definitions:
        type_node = definition.type
        required = isinstance(type_node, NonNullTypeNode)
        if isinstance(type_node, NonNullTypeNode):  # (`required`, as mypy narrows it)
            type_node = type_node.type
        if (
            not isinstance(type_node, NamedTypeNode)
            or type_node.name.value not in _PLAIN_SCALARS
            or definition.default_value is not None
        ):
            return False
        value = variables.get(definition.variable.name.value)
        if value is None:
            if required:
                return False
        elif type(value) is not str:
            return False
    return True


def _coded(error: GraphQLError) -> GraphQLError:
    """graphql-core aborts validation when fragments nest deeper than it recurses, when they
    would cost too much work to check, or after too many errors: the document is refused for
    its size, which is QUERY_TOO_COMPLEX rather than a generic BAD_REQUEST."""
    if not isinstance(error, ValidationAbortedError):
        return error
    return GraphQLError(
        "The query is too large, or nests fragments too deeply, to be checked.",
        extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
    )


def _no_operation(document: DocumentNode, name: str | None) -> GraphQLError:
    if name is not None:
        return GraphQLError(f'Unknown operation named "{name}".')
    if not any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        return GraphQLError("The document defines no operation.")
    return GraphQLError(
        "The document defines several operations: say which to run in `operationName`."
    )
