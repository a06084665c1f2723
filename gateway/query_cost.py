"""The query cost: how many department records one query makes the gateway ask for, against a
budget per role, checked before anything runs.

Depth, alias and token limits bound the document; they do not bound the fan-out, which is what
costs the registries: `subjects(ids:)` with 100 ids, 30 aliased `subject` fields, `lists` that
gathers every department. The cost counts exactly that, as records: for each `subject`/`subjects`
field, for each valid id, the departments (and lower-level gateways) the resolver's own load plan
consults for it (`resolvers.subject.planned_records`). So a section costs 1 per subject, `lists`
and `grades` cost every department the lookup's matter uses, `jointMeasures` every department its
matters use, `name` 1 for an organisation (market regulation) and every used department for a
person, `id`, `kind` and `sources` nothing, and a denied section nothing (the access plan has
removed it). It is computed on the access plan's document, after variables are known (ids often
come from variables), so fragments, aliases, `@skip`/`@include` and denied fields are accounted
for as they will execute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    OperationDefinitionNode,
    VariableDefinitionNode,
    value_from_ast_untyped,
)

from resolvers.context import RequestContext
from resolvers.subject import JOINT_MEASURES_FIELD, planned_records

LOOKUP_FIELDS = frozenset({"subject", "subjects"})


@dataclass(frozen=True, slots=True)
class LookupField:
    """One `subject`/`subjects` field of the operation (fields merged under one response key
    execute once, so they are one lookup with the union of their selections)."""

    ids: tuple[str, ...]
    matter: str | None
    fields: frozenset[str]
    measure_matters: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class _LookupShape:
    """One lookup as the document writes it: what is left to read per request is the values of
    its arguments."""

    single: bool
    """`subject(id:)`, else `subjects(ids:)`."""
    arguments: tuple[ArgumentNode, ...]
    fields: frozenset[str]
    measure_arguments: tuple[tuple[ArgumentNode, ...], ...]
    """The arguments of each `jointMeasures` selected."""


class OperationLookups:
    """The lookups of an operation as the access plan prunes it (fragments inlined, directives
    applied, denied fields removed: its root selections are plain fields), its document read
    once: an executor keeps one beside each cached access plan, so a request only reads its
    variables (`of`). (Walking the document was about 50 us of a cold profile's way out, before
    its first registry request could leave.)"""

    __slots__ = ("_definitions", "_shapes")

    def __init__(self, operation: OperationDefinitionNode) -> None:
        self._definitions = operation.variable_definitions or ()
        merged: dict[str, list[FieldNode]] = {}
        for node in operation.selection_set.selections:
            if isinstance(node, FieldNode) and node.name.value in LOOKUP_FIELDS:
                key = node.alias.value if node.alias else node.name.value
                merged.setdefault(key, []).append(node)
        shapes = []
        for nodes in merged.values():
            children = [
                child
                for node in nodes
                for child in (node.selection_set.selections if node.selection_set else ())
                if isinstance(child, FieldNode)
            ]
            shapes.append(
                _LookupShape(
                    nodes[0].name.value == "subject",
                    tuple(nodes[0].arguments or ()),
                    frozenset(child.name.value for child in children),
                    tuple(
                        tuple(child.arguments or ())
                        for child in children
                        if child.name.value == JOINT_MEASURES_FIELD
                    ),
                )
            )
        self._shapes = tuple(shapes)

    def of(self, variables: Mapping[str, Any] | None) -> list[LookupField]:
        if not self._shapes:
            return []
        values = _with_defaults(self._definitions, variables)
        found = []
        for shape in self._shapes:
            arguments = _arguments(shape.arguments, values)
            if shape.single:
                ids: tuple[str, ...] = _ids([arguments.get("id")])
            else:
                raw = arguments.get("ids")
                ids = _ids(raw if isinstance(raw, list) else [raw])
            measure_matters = tuple(
                _text(_arguments(measure, values).get("matter"))
                for measure in shape.measure_arguments
            )
            found.append(
                LookupField(ids, _text(arguments.get("matter")), shape.fields, measure_matters)
            )
        return found


def cost_over_budget(
    lookups: Sequence[LookupField], context: RequestContext, budget: int
) -> int | None:
    """The query's cost if it is over `budget`, else None.

    Cheapest first, since almost every query is far within its budget: a bound from the number
    of ids alone (every source for every id), then the resolver's plan without validating ids
    (each id taken for the kind that consults most), and only when both exceed the budget the
    exact count, which validates every id.
    """
    per_subject = len(context.sources) + len(context.upstreams)
    if sum(len(lookup.ids) for lookup in lookups) * per_subject <= budget:
        return None
    if sum(_records(lookup, context, exact=False) for lookup in lookups) <= budget:
        return None
    cost = sum(_records(lookup, context, exact=True) for lookup in lookups)
    return cost if cost > budget else None


def _records(lookup: LookupField, context: RequestContext, exact: bool) -> int:
    return planned_records(
        context, lookup.ids, lookup.matter, lookup.fields, lookup.measure_matters, exact=exact
    )


def _with_defaults(
    definitions: Sequence[VariableDefinitionNode], variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The request's variables, plus the defaults of those it leaves out (as execution sees
    them). Not coerced: values of the wrong type fail in execution, which fetches nothing."""
    values = dict(variables or {})
    for definition in definitions:
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


def _arguments(arguments: Sequence[ArgumentNode], variables: dict[str, Any]) -> dict[str, Any]:
    return {
        argument.name.value: value_from_ast_untyped(argument.value, variables)
        for argument in arguments
    }


def _ids(values: list[Any]) -> tuple[str, ...]:
    return tuple(text for text in map(_text, values) if text is not None)


def _text(value: Any) -> str | None:
    """An `ID` as execution coerces it (a string, or an integer written as one); None for
    anything else, which execution refuses."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
