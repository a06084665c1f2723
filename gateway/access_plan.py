"""The access plan: what an operation may read, decided once, before anything executes.

The operation is walked with its fragments inlined and `@skip`/`@include` applied, so aliases,
named and inline fragments, repeated fields and variables all reduce to the same schema coordinates
and cannot widen what a principal gets. Denied fields are removed from the document that executes,
which means a denied section's registry is never called and nothing below a granted field needs a
check while resolving: with nothing denied, execution is exactly what it was without access
control. After execution, each denied field is reported as `null` (an empty list for a list) with
a `FORBIDDEN` error at its path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_directive_values, get_variable_values

from gateway.policy import Grants
from resolvers.errors import ErrorCode

ALWAYS_ALLOWED = frozenset({"Subject.id", "Subject.kind", "Query.matters"})
"""The identity the caller sent (masking, not denial, protects a natural person's id), and the
catalogue, which is published to everyone."""
PLACEHOLDER = "_denied"
"""Alias of the `__typename` that keeps a selection set whose every field was denied valid; it is
removed from the data after execution."""


@dataclass(frozen=True, slots=True)
class DeniedField:
    path: tuple[str, ...]
    """Response keys from the root (lists are crossed at every item)."""
    coordinate: str
    as_list: bool


PII_COORDINATES = frozenset({"Person.idNumber", "IndustryBan.person"})
"""The personal-data leaves: an audit entry records these wherever they are read."""


def audited_coordinates(coordinates: frozenset[str]) -> frozenset[str]:
    """What an audit entry records of what was read: the fields of `Query` and `Subject` (a
    section is granted and read whole, so its coordinate says which department's records were
    seen) and the personal-data leaves. The leaves inside a section add nothing an auditor needs,
    and are most of an entry's size, validation and hashing."""
    return frozenset(
        c for c in coordinates if c.startswith(("Query.", "Subject.")) or c in PII_COORDINATES
    )


@dataclass(frozen=True, slots=True)
class AccessPlan:
    document: DocumentNode
    """The operation to execute, fragments inlined and denied fields removed."""
    returned: frozenset[str]
    denied: tuple[DeniedField, ...] = field(default=())
    placeholders: tuple[tuple[str, ...], ...] = field(default=())
    """Paths of the objects whose selection was emptied (see PLACEHOLDER)."""
    audited_returned: frozenset[str] = field(init=False)
    """`audited_coordinates` of `returned`, and below of the denied coordinates: derived once per
    plan, which the executor caches per query and roles, rather than for every lookup audited."""
    audited_denied: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "audited_returned", audited_coordinates(self.returned))
        object.__setattr__(self, "audited_denied", audited_coordinates(self.denied_coordinates))

    @property
    def denied_coordinates(self) -> frozenset[str]:
        return frozenset(d.coordinate for d in self.denied)


class VariablesInvalid(Exception):
    """The request's variables do not coerce to the operation's variable types."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__("invalid variables")
        self.errors = errors


def plan_access(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    grants: Grants,
) -> AccessPlan:
    root = schema.query_type
    assert root is not None
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        raise VariablesInvalid(coerced)
    walker = _Walker(schema, document, coerced, grants)
    selections = walker.selection_set(operation.selection_set, root, False, ())
    pruned = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=selections,
    )
    # Fragment definitions stay: introspection subtrees are kept as written, spreads included.
    fragments = tuple(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    return AccessPlan(
        DocumentNode(definitions=(pruned, *fragments)),
        frozenset(walker.returned),
        tuple(walker.denied),
        tuple(walker.placeholders),
    )


def uses_variable_directives(document: DocumentNode) -> bool:
    """Whether `@skip`/`@include` depend on variables (then a plan is per request, not cached)."""
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        for directive in getattr(node, "directives", None) or ():
            if any(arg.value.kind == "variable" for arg in directive.arguments or ()):
                return True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return False


def fill_denied(data: dict[str, Any] | None, plan: AccessPlan) -> list[GraphQLError]:
    """Put `null` (or `[]`) where each denied field would be, with a FORBIDDEN error there."""
    errors: list[GraphQLError] = []
    if data is None:
        return errors
    for emptied in plan.placeholders:
        for container, _ in _containers(data, emptied, []):
            container.pop(PLACEHOLDER, None)
    for denied in plan.denied:
        for container, path in _containers(data, denied.path[:-1], []):
            key = denied.path[-1]
            container[key] = [] if denied.as_list else None
            errors.append(
                GraphQLError(
                    f"Your role may not read {denied.coordinate}.",
                    path=[*path, key],
                    extensions={"code": ErrorCode.FORBIDDEN.value, "coordinate": denied.coordinate},
                )
            )
    return errors


def _containers(
    value: Any, keys: Sequence[str], path: list[str | int]
) -> list[tuple[dict[str, Any], list[str | int]]]:
    if isinstance(value, list):
        found = []
        for index, item in enumerate(value):
            found.extend(_containers(item, keys, [*path, index]))
        return found
    if not isinstance(value, dict):
        return []
    if not keys:
        return [(value, path)]
    return _containers(value.get(keys[0]), keys[1:], [*path, keys[0]])


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: VariableValues,
        grants: Grants,
    ) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self.grants = grants
        self.returned: set[str] = set()
        self.denied: list[DeniedField] = []
        self.placeholders: list[tuple[str, ...]] = []
        self._denied_paths: set[tuple[str, ...]] = set()

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType,
        granted_below: bool,
        path: tuple[str, ...],
    ) -> SelectionSetNode:
        kept = self.walk(selection_set, parent, granted_below, path)
        if not kept:
            self.placeholders.append(path)
            kept = [_placeholder()]
        return SelectionSetNode(selections=tuple(kept))

    def walk(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType,
        granted_below: bool,
        path: tuple[str, ...],
        seen_fragments: frozenset[str] = frozenset(),
    ) -> list[FieldNode]:
        kept: list[FieldNode] = []
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                node = self._field(selection, parent, granted_below, path)
                if node is not None:
                    kept.append(node)
            elif isinstance(selection, InlineFragmentNode):
                kept.extend(
                    self.walk(selection.selection_set, parent, granted_below, path, seen_fragments)
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen_fragments:
                    kept.extend(
                        self.walk(
                            fragment.selection_set,
                            parent,
                            granted_below,
                            path,
                            seen_fragments | {name},
                        )
                    )
        return kept

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLObjectType,
        granted_below: bool,
        path: tuple[str, ...],
    ) -> FieldNode | None:
        name = node.name.value
        if name.startswith("__"):  # __typename, and introspection, which reads no data
            return _without_directives(node)
        coordinate = f"{parent.name}.{name}"
        key = node.alias.value if node.alias else name
        if granted_below or coordinate in ALWAYS_ALLOWED:
            allowed, below = True, True
        else:
            allowed, below = self.grants.allows(coordinate)
        definition = parent.fields[name]
        if not allowed:
            if (*path, key) not in self._denied_paths:
                self._denied_paths.add((*path, key))
                self.denied.append(
                    DeniedField(
                        (*path, key), coordinate, is_list_type(get_nullable_type(definition.type))
                    )
                )
            return None
        self.returned.add(coordinate)
        if node.selection_set is None:
            return _without_directives(node)
        child = get_named_type(definition.type)
        assert isinstance(child, GraphQLObjectType)
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=node.arguments,
            directives=(),
            selection_set=self.selection_set(node.selection_set, child, below, (*path, key)),
            loc=node.loc,
        )

    def _included(self, node: Any) -> bool:
        if not node.directives:
            return True
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)


def _without_directives(node: FieldNode) -> FieldNode:
    if not node.directives:
        return node
    return FieldNode(
        alias=node.alias,
        name=node.name,
        arguments=node.arguments,
        directives=(),
        selection_set=node.selection_set,
        loc=node.loc,
    )


def _placeholder() -> FieldNode:
    return FieldNode(
        alias=NameNode(value=PLACEHOLDER),
        name=NameNode(value="__typename"),
        arguments=(),
        directives=(),
    )
