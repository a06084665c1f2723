"""Validation rules that bound what one query may ask for, each with its stable error code.

strawberry ships depth and alias limiters, but their errors carry no code; these rules are as small
and report `QUERY_TOO_DEEP` / `QUERY_TOO_COMPLEX`, which clients can act on. Introspection has its
own depth budget: GraphiQL's introspection query is 15 levels deep, a profile query 5.
Fragment cycles are reported by graphql-core's own rule; these rules only refuse to loop on them.
They recurse once per level and per fragment spread in a chain; a chain longer than the
interpreter's stack (thousands of fragments, each spreading the next) is refused as too deep
rather than allowed to fail the request.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from resolvers.errors import ErrorCode

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in context.document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _operations(context: ValidationContext) -> list[OperationDefinitionNode]:
    return [d for d in context.document.definitions if isinstance(d, OperationDefinitionNode)]


def _depths(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
    in_introspection: bool,
    memo: dict[tuple[str, bool], tuple[int, int]],
) -> tuple[int, int]:
    """(depth of data fields, depth of introspection fields) below a selection set.

    A fragment's depths are computed once (`memo`), so a fragment spread many times at many levels
    (a "fragment bomb") costs no more than its text.
    """
    data = introspection = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            entering = in_introspection or selection.name.value in INTROSPECTION_ROOTS
            below = (0, 0)
            if selection.selection_set is not None:
                below = _depths(selection.selection_set, fragments, visiting, entering, memo)
            if entering:
                introspection = max(introspection, 1 + max(below))
            else:
                data = max(data, 1 + below[0])
                introspection = max(introspection, below[1])
            continue
        if isinstance(selection, InlineFragmentNode):
            below = _depths(selection.selection_set, fragments, visiting, in_introspection, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue
            key = (name, in_introspection)
            if key not in memo:
                memo[key] = _depths(
                    fragment.selection_set, fragments, visiting | {name}, in_introspection, memo
                )
            below = memo[key]
        else:  # pragma: no cover - graphql-core has no other selection kinds
            continue
        data, introspection = max(data, below[0]), max(introspection, below[1])
    return data, introspection


def depth_limit(max_depth: int, max_introspection_depth: int) -> type[ValidationRule]:
    class QueryDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            fragments = _fragments(context)
            for operation in _operations(context):
                try:
                    data, introspection = _depths(
                        operation.selection_set, fragments, frozenset(), False, {}
                    )
                except RecursionError:
                    context.report_error(_too_deep_to_check(operation))
                    continue
                if data > max_depth or introspection > max_introspection_depth:
                    context.report_error(
                        GraphQLError(
                            f"The query is {max(data, introspection)} levels deep; "
                            f"at most {max_depth} are allowed "
                            f"({max_introspection_depth} for introspection).",
                            operation,
                            extensions={"code": ErrorCode.QUERY_TOO_DEEP.value},
                        )
                    )

    return QueryDepthRule


def _aliases(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
    memo: dict[str, int],
) -> int:
    """Aliased fields, counting a fragment once per place it is spread (memoised per fragment)."""
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += selection.alias is not None
            if selection.selection_set is not None:
                count += _aliases(selection.selection_set, fragments, visiting, memo)
        elif isinstance(selection, InlineFragmentNode):
            count += _aliases(selection.selection_set, fragments, visiting, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visiting:
                if name not in memo:
                    memo[name] = _aliases(
                        fragment.selection_set, fragments, visiting | {name}, memo
                    )
                count += memo[name]
    return count


def alias_limit(max_aliases: int) -> type[ValidationRule]:
    class AliasLimitRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            fragments = _fragments(context)
            for operation in _operations(context):
                try:
                    count = _aliases(operation.selection_set, fragments, frozenset(), {})
                except RecursionError:
                    context.report_error(_too_deep_to_check(operation))
                    continue
                if count > max_aliases:
                    context.report_error(
                        GraphQLError(
                            f"The query uses {count} aliases; at most {max_aliases} are allowed.",
                            operation,
                            extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
                        )
                    )

    return AliasLimitRule


def _too_deep_to_check(operation: OperationDefinitionNode) -> GraphQLError:
    return GraphQLError(
        "The query nests fragments too deeply to be checked.",
        operation,
        extensions={"code": ErrorCode.QUERY_TOO_DEEP.value},
    )
