"""Fast completion of plain-data subtrees: everything below a department section.

graphql-core completes every field of a result through its generic machinery (resolve info, a
resolver call, awaitable checks, path bookkeeping): about 10 µs a field in CPython, which for a full
profile of ~75 fields is most of the gateway's work once the registries have answered. Below a
section, though, the data is a validated record read by plain attributes, so that machinery has
nothing to decide. For such types this execution context compiles each selection once into a small
completer (read the attribute, serialise the leaf, recurse into lists and objects) and runs it; a
list of such objects (`lists`, `grades`, `sources`) is completed by one completer too, rather than
by graphql-core's path item by item. An object's completer is one generated function
(schema/object_completer.py), so a field costs no Python call unless it needs one.

A selection is compiled only when it is plain too: fields without arguments or directives, no
fragments. Anything else, and any surprise while completing (a null in a non-null field, a value a
scalar cannot serialise), falls back to graphql-core's own path for that object (or list), which
reports it exactly as it always does: the fast path never produces an error or a partial value of
its own.

Compiled completers depend only on the schema and the query's syntax tree, which the gateway caches
per query text, so they are cached per schema, keyed by the identity of the field nodes (verified,
so a recycled id cannot match).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from cachetools import LRUCache
from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.object_completer import FieldPlan, generate

Completer = Callable[[Any], Any]
T = TypeVar("T")
PLAN_CACHE_SIZE = 4096


class _Fallback(Exception):
    """The fast path met something only graphql-core's path reports properly."""


def plain_types(schema: GraphQLSchema) -> dict[str, dict[str, str]]:
    """Object types whose every field is a plain attribute: GraphQL field name -> Python name.

    A field with a resolver, arguments or field extensions disqualifies its type.
    """
    plain: dict[str, dict[str, str]] = {}
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        attributes: dict[str, str] = {}
        for field_name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if (
                not isinstance(definition, StrawberryField)
                or definition.base_resolver is not None
                or definition.arguments
                or definition.extensions
                or field.args
            ):
                break
            attributes[field_name] = definition.python_name
        else:
            plain[name] = attributes
    return plain


class PlainDataCompiler:
    """Compiles and caches completers for one schema's plain types."""

    def __init__(self, plain: Mapping[str, Mapping[str, str]]) -> None:
        self.plain = plain
        self._plans: LRUCache[
            tuple[str, tuple[int, ...]], tuple[tuple[FieldNode, ...], Completer | None]
        ]
        self._plans = LRUCache(maxsize=PLAN_CACHE_SIZE)

    def completer(
        self, object_type: GraphQLObjectType, nodes: tuple[FieldNode, ...]
    ) -> Completer | None:
        """The completer of an object of a plain type selected by `nodes`, if it is plain."""
        return self._cached(
            object_type, nodes, lambda: self._object(object_type, _selections(nodes))
        )

    def list_completer(
        self, list_type: GraphQLList[Any], nodes: tuple[FieldNode, ...]
    ) -> Completer | None:
        """The completer of a whole list (`lists`, `grades`, `sources`: plain items), if its
        items are plain: one call for the list instead of graphql-core's path per item."""
        named = get_named_type(list_type)
        if not is_leaf_type(named) and named.name not in self.plain:
            return None
        return self._cached(list_type, nodes, lambda: self._value(list_type, list(nodes)))

    def _cached(
        self,
        graphql_type: GraphQLOutputType,
        nodes: tuple[FieldNode, ...],
        compile_: Callable[[], Completer | None],
    ) -> Completer | None:
        """What `compile_` gives, cached per type and selection (a selection that is not plain
        too, so that it is not compiled again for every value)."""
        key = (str(graphql_type), tuple(map(id, nodes)))
        cached = self._plans.get(key)
        if cached is not None and all(a is b for a, b in zip(cached[0], nodes, strict=True)):
            return cached[1]
        compiled = compile_()
        self._plans[key] = (nodes, compiled)
        return compiled

    def _object(
        self, object_type: GraphQLObjectType, selections: list[Any] | None
    ) -> Completer | None:
        attributes = self.plain.get(object_type.name)
        if attributes is None or selections is None:
            return None
        groups: dict[str, list[FieldNode]] = {}
        for selection in selections:
            if not isinstance(selection, FieldNode) or selection.directives or selection.arguments:
                return None
            key = selection.alias.value if selection.alias else selection.name.value
            groups.setdefault(key, []).append(selection)
        plan: list[FieldPlan] = []
        for key, field_nodes in groups.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                plan.append(FieldPlan(key, None))
                continue
            graphql_type = object_type.fields[name].type
            field = self._field_plan(key, attributes[name], graphql_type, field_nodes)
            if field is None:
                return None
            plan.append(field)
        return generate(object_type.name, plan, _Fallback)

    def _field_plan(
        self,
        key: str,
        attribute: str,
        graphql_type: GraphQLOutputType,
        nodes: list[FieldNode],
    ) -> FieldPlan | None:
        """How the object's completer completes one field (the non-null check is its own)."""
        non_null = is_non_null_type(graphql_type)
        if non_null:
            graphql_type = graphql_type.of_type  # type: ignore[union-attr]
        if is_object_type(graphql_type):
            nested = self._object(graphql_type, _selections(nodes))
            if nested is None:
                return None
            return FieldPlan(key, attribute, non_null, nested, nested_object=True)
        complete = self._value(graphql_type, nodes)
        if complete is None:
            return None
        scalar = graphql_type if is_leaf_type(graphql_type) else None
        return FieldPlan(key, attribute, non_null, complete, scalar)

    def _value(self, graphql_type: GraphQLOutputType, nodes: list[FieldNode]) -> Completer | None:
        if is_non_null_type(graphql_type):
            inner = self._value(graphql_type.of_type, nodes)
            if inner is None:
                return None

            def complete_non_null(value: Any) -> Any:
                if value is None:
                    raise _Fallback
                return inner(value)

            return complete_non_null
        if is_list_type(graphql_type):
            item = self._value(graphql_type.of_type, nodes)
            if item is None:
                return None

            def complete_list(value: Any) -> Any:
                # Records hold lists and tuples; the checks against the ABCs (slow, and every
                # list of a profile pays them) are only for anything else.
                if type(value) is not list and type(value) is not tuple:
                    if value is None:
                        return None
                    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
                        raise _Fallback
                return [item(entry) for entry in value]

            return complete_list
        if is_leaf_type(graphql_type):
            serialize = graphql_type.serialize

            def complete_leaf(value: Any) -> Any:
                if value is None:
                    return None
                serialized = serialize(value)
                if serialized is None or serialized is Undefined:
                    raise _Fallback
                return serialized

            return complete_leaf
        if is_object_type(graphql_type):
            complete = self._object(graphql_type, _selections(nodes))
            if complete is None:
                return None

            def complete_nullable(value: Any) -> Any:
                return None if value is None else complete(value)

            return complete_nullable
        return None


def _selections(nodes: Iterable[FieldNode]) -> list[Any] | None:
    selections: list[Any] = []
    for node in nodes:
        if node.selection_set is None:
            return None
        selections.extend(node.selection_set.selections)
    return selections


def execution_context_class(
    compiler: PlainDataCompiler,
) -> type[StrawberryGraphQLCoreExecutionContext]:
    """strawberry's execution context, with plain types completed by `compiler`."""

    class PlainDataExecutionContext(StrawberryGraphQLCoreExecutionContext):
        def complete_object_value(
            self,
            return_type: GraphQLObjectType,
            field_details_list: FieldDetailsList,
            info: GraphQLResolveInfo[Any],
            path: Path,
            result: Any,
            position_context: Any,
        ) -> Any:
            if return_type.name in compiler.plain:
                value = _completed(compiler.completer, return_type, field_details_list, result)
                if value is not _MISSED:
                    return value
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )

        def complete_list_value(
            self,
            return_type: GraphQLList[GraphQLOutputType],
            field_details_list: FieldDetailsList,
            info: GraphQLResolveInfo[Any],
            path: Path,
            result: Any,
            position_context: Any,
        ) -> Any:
            value = _completed(compiler.list_completer, return_type, field_details_list, result)
            if value is not _MISSED:
                return value
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )

    return PlainDataExecutionContext


_MISSED = object()
"""The fast path did not complete the value: graphql-core's path will."""


def _completed(
    completer_of: Callable[[T, tuple[FieldNode, ...]], Completer | None],
    graphql_type: T,
    field_details_list: FieldDetailsList,
    result: Any,
) -> Any:
    """`result` completed by the compiled completer of `graphql_type` selected by the fields,
    or `_MISSED` when there is none (deferred, fragment variables, not plain) or it met anything
    that only graphql-core reports properly."""
    if not all(
        details.defer_usage is None and details.fragment_variable_values is None
        for details in field_details_list
    ):
        return _MISSED
    complete = completer_of(graphql_type, tuple(details.node for details in field_details_list))
    if complete is None:
        return _MISSED
    try:
        return complete(result)
    except Exception:
        return _MISSED
