"""A plain object's completer as one straight-line function, generated once per selection.

The plain-data fast path (schema/plain_data.py) completes a record below a department section
without graphql-core's machinery. Built from closures, it still made two or three Python calls per
field: a non-null check, a leaf's completer, the scalar's `serialize`. A cold profile completes
about fifty leaves after its last registry answer, on a core just back from idling, where every
call costs several times what it costs in a loop. So each selected object gets one generated
function instead: it reads the selected attributes, checks the non-null ones inline, passes a
`String`, `ID`, `Boolean`, `Int` or `Float` value through when it already has the type (and range)
the scalar would give it, and calls a completer only for other scalars, lists and nested objects.

It answers exactly what the closures answered: a value of any other type goes through the
scalar's own completer, and a null in a non-null field raises `fallback`, so the object falls
back to graphql-core's path, which reports it.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLBoolean, GraphQLFloat, GraphQLID, GraphQLInt, GraphQLString

Completer = Callable[[Any], Any]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

# graphql-core's built-in scalars (the objects themselves: a custom scalar is always serialised),
# and when the value itself is the serialised value (`v`: the attribute's value): exactly the
# cases in which their serialisers return their input unchanged.
_PASSES_THROUGH: dict[object, str] = {
    GraphQLString: "type({v}) is str",
    GraphQLID: "type({v}) is str",
    GraphQLBoolean: "type({v}) is bool",
    GraphQLInt: f"(type({{v}}) is int and {_INT_MIN} <= {{v}} <= {_INT_MAX})",
    GraphQLFloat: "(type({v}) is float and _isfinite({v}))",
}


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """How one response key of an object is completed."""

    key: str
    attribute: str | None
    """The Python attribute read; None for `__typename`."""
    non_null: bool = False
    complete: Completer | None = None
    """The completer of the (nullable) value: a leaf's, a list's, or a nested object's."""
    scalar: object | None = None
    """The leaf's scalar type, when it is a built-in one whose values may pass through."""
    nested_object: bool = False
    """`complete` is an object's completer, which is not given None."""


def generate(typename: str, fields: Sequence[FieldPlan], fallback: type[Exception]) -> Completer:
    """The completer of an object of `typename` whose selection is `fields`."""
    namespace: dict[str, Any] = {"_fallback": fallback, "_isfinite": math.isfinite}
    lines = ["def complete_object(value):"]
    entries = []
    for index, field in enumerate(fields):
        if field.attribute is None:
            namespace[f"t{index}"] = typename
            entries.append(f"{field.key!r}: t{index}")
            continue
        value = f"a{index}"
        if field.attribute.isidentifier() and not keyword.iskeyword(field.attribute):
            lines.append(f"    {value} = value.{field.attribute}")
        else:
            namespace[f"n{index}"] = field.attribute
            lines.append(f"    {value} = getattr(value, n{index})")
        if field.non_null:
            lines.append(f"    if {value} is None: raise _fallback")
        namespace[f"c{index}"] = field.complete
        expression = f"c{index}({value})"
        if field.nested_object:
            expression = f"None if {value} is None else {expression}"
        elif (test := _PASSES_THROUGH.get(field.scalar)) is not None:
            expression = f"{value} if {test.format(v=value)} else {expression}"
        entries.append(f"{field.key!r}: {expression}")
    lines.append("    return {" + ", ".join(entries) + "}")
    # The source holds names made here, schema attributes checked to be identifiers, and the
    # `repr` of each response key (a GraphQL name, an alias included): nothing a request sends
    # can become code.
    exec(compile("\n".join(lines), f"<completer of {typename}>", "exec"), namespace)
    completer: Completer = namespace["complete_object"]
    return completer
