"""What a query selects below a field, with fragments expanded and `@skip`/`@include` applied.

Resolvers use this to decide, once per subject, which departments a query consults, instead of
letting each field discover it while running (which would make `sources` depend on timing).
"""

from __future__ import annotations

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
    names: set[str] = set()
    variables = _variables(info)
    for node in info.field_nodes:
        if node.selection_set is not None:
            _collect(node.selection_set, info.fragments, variables, names, set())
    return frozenset(names)


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
    nodes: list[FieldNode] = []
    for node in info.field_nodes:
        if node.selection_set is not None:
            _collect_nodes(node.selection_set, info.fragments, variables, name, nodes, set())
    return [get_argument_values(field_def, node, variables) for node in nodes]


def selects_anywhere(info: GraphQLResolveInfo[Any], name: str) -> bool:
    """Whether a field called `name` is selected at any depth below the field being resolved."""
    variables = _variables(info)

    def search(selection_set: SelectionSetNode, seen: set[str]) -> bool:
        for selection in selection_set.selections:
            if not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                if selection.name.value == name:
                    return True
                if selection.selection_set is not None and search(selection.selection_set, seen):
                    return True
            elif isinstance(selection, InlineFragmentNode):
                if search(selection.selection_set, seen):
                    return True
            elif isinstance(selection, FragmentSpreadNode):
                fragment = info.fragments.get(selection.name.value)
                if fragment is not None and selection.name.value not in seen:
                    seen.add(selection.name.value)
                    if search(fragment.selection_set, seen):
                        return True
        return False

    return any(
        node.selection_set is not None and search(node.selection_set, set())
        for node in info.field_nodes
    )


def _variables(info: GraphQLResolveInfo[Any]) -> VariableValues:
    """strawberry hands resolvers the plain coerced dict; graphql-core's helpers want its tuple."""
    variables = info.variable_values
    if isinstance(variables, VariableValues):
        return variables
    return VariableValues(sources={}, coerced=dict(variables or {}))


def _collect_nodes(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
    name: str,
    found: list[FieldNode],
    seen_fragments: set[str],
) -> None:
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            _collect_nodes(
                selection.selection_set, fragments, variables, name, found, seen_fragments
            )
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and selection.name.value not in seen_fragments:
                seen_fragments.add(selection.name.value)
                _collect_nodes(
                    fragment.selection_set, fragments, variables, name, found, seen_fragments
                )


def _collect(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
    names: set[str],
    seen_fragments: set[str],
) -> None:
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            _collect(selection.selection_set, fragments, variables, names, seen_fragments)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen_fragments:
                seen_fragments.add(name)
                _collect(fragment.selection_set, fragments, variables, names, seen_fragments)


def _included(node: SelectionNode, variables: VariableValues) -> bool:
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and include.get("if") is False)
