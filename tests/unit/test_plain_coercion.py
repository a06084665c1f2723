"""`coerces_plainly` may only say yes where graphql-core's coercion accepts the variables."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from gateway.execution import coerces_plainly
from schema import build_schema

SCHEMA = build_schema()._schema

DEFINITIONS = [
    "$id: ID!, $matter: ID",
    "$id: ID!",
    "$id: String!, $matter: String",
    "$id: ID",
    "$ids: [ID!]!",
    '$id: ID! = "x"',
    '$id: ID = "x"',
    "$n: Int",
]
VALUES: list[dict[str, Any]] = [
    {},
    {"id": "91110000600037341L"},
    {"id": "91110000600037341L", "matter": "CO-JOINT-REVIEW"},
    {"id": "91110000600037341L", "matter": None},
    {"id": None},
    {"id": 7},
    {"id": True},
    {"id": ["91110000600037341L"]},
    {"id": {"nested": 1}},
    {"id": "x", "matter": 3.5},
    {"id": "x", "unused": [1, 2]},
    {"ids": ["a", "b"]},
    {"n": 3},
]


def _definitions(text: str) -> Any:
    document = parse(f"query Q({text}) {{ __typename }}")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.variable_definitions


@pytest.mark.parametrize("definitions", DEFINITIONS)
@pytest.mark.parametrize("values", VALUES)
def test_a_yes_is_always_graphql_cores_yes(definitions: str, values: dict[str, Any]) -> None:
    nodes = _definitions(definitions)
    accepted = not isinstance(get_variable_values(SCHEMA, nodes, values), list)
    if coerces_plainly(nodes, values):
        assert accepted


def test_the_profile_lookup_is_seen_without_graphql_core() -> None:
    nodes = _definitions("$id: ID!, $matter: ID")
    assert coerces_plainly(nodes, {"id": "91110000600037341L", "matter": "CO-JOINT-REVIEW"})
    assert coerces_plainly(nodes, {"id": "91110000600037341L"})
    assert not coerces_plainly(nodes, {"matter": "CO-JOINT-REVIEW"})
    assert not coerces_plainly(nodes, {"id": ["91110000600037341L"]})
