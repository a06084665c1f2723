"""Generated object completers answer what the scalars' own serialisers answer, value by value."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLScalarType,
    GraphQLString,
)

from schema.object_completer import FieldPlan, generate


class Fallback(Exception):
    pass


def _leaf(scalar: GraphQLScalarType) -> Any:
    """A leaf's completer as the fast path builds it: None stays None, anything else serialised."""

    def complete(value: Any) -> Any:
        return None if value is None else scalar.serialize(value)

    return complete


VALUES: list[Any] = [
    "text",
    "",
    True,
    False,
    0,
    7,
    -(2**31),
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    1.5,
    3.0,
    float("nan"),
    float("inf"),
    None,
    b"bytes",
    ["a list"],
]
SCALARS = [GraphQLString, GraphQLID, GraphQLBoolean, GraphQLInt, GraphQLFloat]


def _outcome(complete: Any, value: Any) -> Any:
    try:
        return ("value", complete(value))
    except Exception as error:  # the serialiser's refusal, whatever its type
        return ("refused", type(error).__name__)


@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: s.name)
def test_a_value_passes_through_only_where_the_scalar_would_return_it(
    scalar: GraphQLScalarType,
) -> None:
    leaf = _leaf(scalar)
    completer = generate("T", [FieldPlan("k", "a", complete=leaf, scalar=scalar)], Fallback)
    for value in VALUES:
        expected = _outcome(leaf, value)
        got = _outcome(lambda v: completer(SimpleNamespace(a=v))["k"], value)
        assert got == expected, (scalar.name, value)
        if expected[0] == "value":
            assert type(got[1]) is type(expected[1]), (scalar.name, value)


def test_a_null_in_a_non_null_field_falls_back_and_elsewhere_stays_null() -> None:
    string = _leaf(GraphQLString)
    completer = generate(
        "T",
        [
            FieldPlan("must", "a", non_null=True, complete=string, scalar=GraphQLString),
            FieldPlan("may", "b", complete=string, scalar=GraphQLString),
        ],
        Fallback,
    )
    assert completer(SimpleNamespace(a="x", b=None)) == {"must": "x", "may": None}
    with pytest.raises(Fallback):
        completer(SimpleNamespace(a=None, b="y"))


def test_nested_objects_typename_aliases_and_awkward_attribute_names() -> None:
    inner = generate("Inner", [FieldPlan("v", "v", complete=_leaf(GraphQLInt))], Fallback)
    completer = generate(
        "Outer",
        [
            FieldPlan("__typename", None),
            FieldPlan("first", "inner", complete=inner, nested_object=True),
            FieldPlan("second", "inner", complete=inner, nested_object=True),
            FieldPlan("maybe", "other", complete=inner, nested_object=True),
            FieldPlan("kw", "from", complete=_leaf(GraphQLString), scalar=GraphQLString),
            FieldPlan("q", "it's", complete=_leaf(GraphQLString), scalar=GraphQLString),
        ],
        Fallback,
    )
    value = SimpleNamespace(inner=SimpleNamespace(v=True), other=None, **{"from": 1, "it's": "x"})
    assert completer(value) == {
        "__typename": "Outer",
        "first": {"v": 1},
        "second": {"v": 1},
        "maybe": None,
        "kw": "1",
        "q": "x",
    }


def test_a_custom_scalar_is_always_serialised() -> None:
    shouting = GraphQLScalarType("Shout", serialize=lambda value: str(value).upper())
    completer = generate(
        "T", [FieldPlan("k", "a", complete=_leaf(shouting), scalar=shouting)], Fallback
    )
    assert completer(SimpleNamespace(a="quiet")) == {"k": "QUIET"}
