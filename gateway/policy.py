"""The access policy: which schema coordinates each role may read. Deny by default.

A role grants coordinates (`Type.field`) in two ways: `fields` grants those fields only, `subtrees`
grants a field and everything below it (`Subject.environment` grants the whole section). An unknown
role grants nothing. The policy is a TOML file, validated against the schema when the gateway
starts: a coordinate the schema does not have is an error that names its line, so a typo cannot
silently deny (or grant) something.

The policy also says how much one query may cost each role (`max_cost`, see gateway/query_cost.py):
what a role may read and how much of it one request may fan out to are decided in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from graphql import GraphQLObjectType, GraphQLSchema
from pydantic import BaseModel, ConfigDict, Field

from gateway.config_files import ConfigError, read_toml, validated


class _RoleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    fields: list[str] = Field(default_factory=list)
    subtrees: list[str] = Field(default_factory=list)
    max_cost: int | None = Field(default=None, ge=0)


DEFAULT_MAX_COST = 1200
"""Records one query may ask for when the policy says nothing: one `subjects` batch of 100 full
profiles across eleven departments."""


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_max_cost: int = Field(default=DEFAULT_MAX_COST, ge=0)
    roles: dict[str, _RoleModel]


@dataclass(frozen=True, slots=True)
class Grants:
    """What a set of roles may read, merged."""

    fields: frozenset[str]
    subtrees: frozenset[str]

    def allows(self, coordinate: str) -> tuple[bool, bool]:
        """(the field is allowed, everything below it is allowed)."""
        if coordinate in self.subtrees:
            return True, True
        return coordinate in self.fields, False


NO_GRANTS = Grants(frozenset(), frozenset())


@dataclass(frozen=True, slots=True)
class Policy:
    roles: dict[str, Grants]
    max_costs: Mapping[str, int] = field(default_factory=dict)
    """The roles that set their own query cost budget."""
    default_max_cost: int = DEFAULT_MAX_COST
    """The budget of every other role (and of a principal without a known role)."""

    def max_cost(self, roles: Iterable[str]) -> int:
        """The query cost budget of a principal: the largest of its known roles' budgets, as its
        grants are the union of theirs (a role that sets none has the default). An unknown role
        grants nothing, so it raises no budget either."""
        budgets = [
            self.max_costs.get(role, self.default_max_cost) for role in roles if role in self.roles
        ]
        return max(budgets, default=self.default_max_cost)

    def grants(self, roles: Iterable[str]) -> Grants:
        known = [self.roles[role] for role in roles if role in self.roles]
        if not known:
            return NO_GRANTS
        return Grants(
            frozenset().union(*(g.fields for g in known)),
            frozenset().union(*(g.subtrees for g in known)),
        )


def load_policy(path: Path, schema: GraphQLSchema) -> Policy:
    text, data = read_toml(path, "policy")
    model = validated(_PolicyModel, data, str(path))
    roles: dict[str, Grants] = {}
    max_costs = {name: r.max_cost for name, r in model.roles.items() if r.max_cost is not None}
    for name, role in model.roles.items():
        for coordinate in (*role.fields, *role.subtrees):
            problem = _coordinate_problem(coordinate, schema)
            if problem is not None:
                raise ConfigError(f"{path}:{_line_of(text, coordinate)}: role {name}: {problem}")
        roles[name] = Grants(frozenset(role.fields), frozenset(role.subtrees))
    return Policy(roles, max_costs, model.default_max_cost)


def _coordinate_problem(coordinate: str, schema: GraphQLSchema) -> str | None:
    type_name, dot, field_name = coordinate.partition(".")
    if not dot or not type_name or not field_name:
        return f"{coordinate!r} is not a schema coordinate (Type.field)"
    graphql_type = schema.type_map.get(type_name)
    if not isinstance(graphql_type, GraphQLObjectType):
        return f"{coordinate!r}: the schema has no object type {type_name!r}"
    if field_name not in graphql_type.fields:
        return f"{coordinate!r}: {type_name} has no field {field_name!r}"
    return None


def _line_of(text: str, coordinate: str) -> int:
    needle = f'"{coordinate}"'
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 0
