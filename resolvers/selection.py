"""What a query selects below a field, with fragments expanded and `@skip`/`@include` applied.

Resolvers use this to decide, once per subject, which departments a query consults, instead of
letting each field discover it while running (which would make `sources` depend on timing).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values


def child_field_names(info: GraphQLResolveInfo[Any]) -> frozenset[str]:
    """Names of the fields selected directly below the field being resolved."""
    return frozenset(node.name.value for node in _selected_fields(info))


def child_field_arguments(info: GraphQLResolveInfo[Any], name: str) -> list[dict[str, Any]]:
    """The arguments (variables substituted) of every field called `name` selected directly
    below the field being resolved, aliases included."""
    parent = info.return_type
    while hasattr(parent, "of_type"):
        parent = parent.of_type
    field_def = getattr(parent, "fields", {}).get(name)
    if field_def is None:
        return []
    variables = _variables(info)
    return [
        get_argument_values(field_def, node, variables)
        for node in _selected_fields(info)
        if node.name.value == name
    ]


def selects_anywhere(info: GraphQLResolveInfo[Any], name: str) -> bool:
    """Whether a field called `name` is selected at any depth below the field being resolved."""
    return any(node.name.value == name for node in _selected_fields(info, deep=True))


def _selected_fields(info: GraphQLResolveInfo[Any], deep: bool = False) -> Iterator[FieldNode]:
    """The fields selected below the field being resolved (directly, or at any depth when
    `deep`), with fragments expanded (each once) and `@skip`/`@include` applied."""
    variables = _variables(info)
    for node in info.field_nodes:
        if node.selection_set is not None:
            yield from _fields(node.selection_set, info.fragments, variables, deep, set())


def _fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
    deep: bool,
    seen_fragments: set[str],
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            yield selection
            if deep and selection.selection_set is not None:
                yield from _fields(
                    selection.selection_set, fragments, variables, deep, seen_fragments
                )
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, variables, deep, seen_fragments)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen_fragments:
                seen_fragments.add(name)
                yield from _fields(
                    fragment.selection_set, fragments, variables, deep, seen_fragments
                )


def _variables(info: GraphQLResolveInfo[Any]) -> VariableValues:
    """strawberry hands resolvers the plain coerced dict; graphql-core's helpers want its tuple."""
    variables = info.variable_values
    if isinstance(variables, VariableValues):
        return variables
    return VariableValues(sources={}, coerced=dict(variables or {}))


def _included(node: SelectionNode, variables: VariableValues) -> bool:
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and include.get("if") is False)
