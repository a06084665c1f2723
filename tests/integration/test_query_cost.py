"""The query cost (records asked for: subjects × sections consulted) against each role's budget.

The test gateways enable four departments (environment, quality, health, commerce); the credit
office's matter uses all four, the environment official's `ENV-DISCHARGE-PERMIT` uses
environment and commerce of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config_files import ConfigError
from gateway.policy import DEFAULT_MAX_COST, load_policy
from gateway.settings import DEFAULTS_DIR
from registries.dataset import Dataset
from registries.server import RegistryServer
from schema import build_schema
from tests.support import PUBLIC, Gateway, bearer, calls, running_gateway

GRAPHQL_RESPONSE = "application/graphql-response+json"
BUDGET = 10
ENV = bearer("environment_official", department="environment", region="430100")
ENV_MATTER = "ENV-DISCHARGE-PERMIT"
SUBJECTS = "query($ids: [ID!]!, $matter: ID) {{ subjects(ids: $ids, matter: $matter) {{ {} }} }}"


def policy_with_budgets(path: Path, default: int, **roles: int) -> Path:
    """The shipped policy with another default budget and roles' own budgets."""
    text = (DEFAULTS_DIR / "policy.toml").read_text(encoding="utf-8")
    text = text.replace(
        f"default_max_cost = {DEFAULT_MAX_COST}", f"default_max_cost = {default}", 1
    )
    text = text.replace("max_cost = 100\n", "")  # the public's own budget
    for role, budget in roles.items():
        text = text.replace(f"[roles.{role}]\n", f"[roles.{role}]\nmax_cost = {budget}\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def budgeted(registries: dict[str, RegistryServer], tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway whose roles may ask for 10 records per query (the public too)."""
    policy = policy_with_budgets(tmp_path / "policy.toml", BUDGET)
    async with running_gateway(registries, access={"policy": str(policy)}) as gateway:
        yield gateway


def _ids(dataset: Dataset, count: int) -> list[str]:
    return [dataset.subject(i).id for i in range(count)]


def _refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert "data" not in body
    error: dict[str, Any] = body["errors"][0]
    assert len(body["errors"]) == 1
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    return error


async def test_cost_is_subjects_times_sections_and_nothing_is_fetched_over_budget(
    budgeted: Gateway, registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    three = SUBJECTS.format("environment { name } quality { name } health { name }")
    within = await budgeted.query(three, {"ids": _ids(dataset, 3)})  # 3 × 3 = 9
    assert "errors" not in within
    assert len(within["data"]["subjects"]) == 3
    before = {d: calls(s) for d, s in registries.items()}

    four = SUBJECTS.format(
        "environment { name } quality { name } health { name } commerce { name }"
    )
    response = await budgeted.post({"query": four, "variables": {"ids": _ids(dataset, 3)}})
    assert response.status_code == 200  # application/json: a document refused before execution
    error = _refusal(response.json())
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 12, "maxCost": BUDGET}
    assert "12 records" in error["message"]
    assert error["locations"]
    strict = await budgeted.post(
        {"query": four, "variables": {"ids": _ids(dataset, 3)}},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert strict.status_code == 400
    assert _refusal(strict.json())["extensions"]["cost"] == 12
    assert {d: calls(s) for d, s in registries.items()} == before


async def test_ids_from_variables_are_counted_per_request(
    budgeted: Gateway, dataset: Dataset
) -> None:
    """One query text (its plan cached), the cost decided by each request's variables."""
    query = SUBJECTS.format("environment { name } quality { name }")
    assert "errors" not in await budgeted.query(query, {"ids": _ids(dataset, 5)})  # 10
    assert (
        _refusal(await budgeted.query(query, {"ids": _ids(dataset, 6)}))["extensions"]["cost"] == 12
    )
    defaulted = (
        'query($ids: [ID!]! = ["91110000600037341L", "91110000600037341L", '
        '"91110000600037341L", "91110000600037341L", "91110000600037341L", '
        '"91110000600037341L"], $matter: ID) { subjects(ids: $ids, matter: $matter) '
        "{ environment { name } quality { name } } }"
    )
    assert _refusal(await budgeted.query(defaulted))["extensions"]["cost"] == 12


async def test_aliased_and_repeated_subject_fields_add_up(
    budgeted: Gateway, samples: dict[str, str]
) -> None:
    fields = " ".join(
        f"s{i}: subject(id: $id, matter: $matter) {{ environment {{ name }} quality {{ name }} "
        "health { name } }"
        for i in range(4)
    )
    body = await budgeted.query(
        f"query($id: ID!, $matter: ID) {{ {fields} }}", {"id": samples["clean"]}
    )
    assert _refusal(body)["extensions"]["cost"] == 12
    # Fields merged under one response key execute once: they are one lookup.
    merged = (
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { name } "
        "quality { name } } subject(id: $id, matter: $matter) { health { name } commerce { name } "
        "} }"
    )
    assert "errors" not in await budgeted.query(merged, {"id": samples["clean"]})


async def test_fields_gathered_from_several_departments_cost_each_department_consulted(
    budgeted: Gateway, dataset: Dataset, samples: dict[str, str]
) -> None:
    """`lists` and `grades` read every department the matter uses; `name` reads commerce for an
    organisation and every used department for a person; `id` and `kind` read nothing."""
    lists = await budgeted.query(SUBJECTS.format("lists { listName }"), {"ids": _ids(dataset, 3)})
    assert _refusal(lists)["extensions"]["cost"] == 12  # 3 subjects × 4 departments
    narrower = await budgeted.query(
        SUBJECTS.format("lists { listName }"),
        {"ids": _ids(dataset, 3), "matter": ENV_MATTER},
        headers=ENV,
    )
    assert "errors" not in narrower  # ENV-DISCHARGE-PERMIT uses 2 of them: 6
    organisations = [samples["clean"]] * 10
    assert "errors" not in await budgeted.query(
        SUBJECTS.format("name"), {"ids": organisations}
    )  # 10 × commerce
    people = [samples["natural_person"]] * 3
    assert (
        _refusal(await budgeted.query(SUBJECTS.format("name"), {"ids": people}))["extensions"][
            "cost"
        ]
        == 12
    )
    identity = await budgeted.query(SUBJECTS.format("id kind"), {"ids": _ids(dataset, 50)})
    assert "errors" not in identity


async def test_denied_sections_skipped_fields_and_invalid_ids_cost_nothing(
    budgeted: Gateway, dataset: Dataset
) -> None:
    everything = SUBJECTS.format(
        "environment { name } quality { name } health { name } commerce { name }"
    )
    denied = await budgeted.query(
        everything, {"ids": _ids(dataset, 5), "matter": ENV_MATTER}, headers=ENV
    )
    assert "QUERY_TOO_COMPLEX" not in str(denied)  # environment only: 5
    assert {e["extensions"]["code"] for e in denied["errors"]} == {"FORBIDDEN"}
    skipped = await budgeted.query(
        "query($ids: [ID!]!, $matter: ID, $more: Boolean!) { subjects(ids: $ids, matter: "
        "$matter) { environment { name } quality @include(if: $more) { name } } }",
        {"ids": _ids(dataset, 10), "more": False},
    )
    assert "errors" not in skipped
    invalid = await budgeted.query(everything, {"ids": [*_ids(dataset, 2), *["bogus"] * 20]})
    assert {e["extensions"]["code"] for e in invalid["errors"]} == {"INVALID_SUBJECT_ID"}


async def test_a_lookup_refused_before_fetching_costs_nothing_and_keeps_its_error(
    budgeted: Gateway, dataset: Dataset
) -> None:
    everything = SUBJECTS.format("environment { name } quality { name }")
    too_many = await budgeted.query(everything, {"ids": _ids(dataset, 101)})
    assert too_many["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
    no_purpose = await budgeted.query(
        everything, {"ids": _ids(dataset, 20), "matter": None}, headers=ENV
    )
    assert no_purpose["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


async def test_budgets_are_per_role_and_a_principal_gets_its_largest(
    registries: dict[str, RegistryServer], dataset: Dataset, tmp_path: Path
) -> None:
    policy = policy_with_budgets(
        tmp_path / "policy.toml", 4, public=2, quality_official=8, environment_official=6
    )
    query = SUBJECTS.format("environment { name } quality { name }")
    async with running_gateway(registries, access={"policy": str(policy)}) as gateway:

        async def cost_refused(ids: int, headers: dict[str, str], matter: str | None) -> bool:
            variables = {"ids": _ids(dataset, ids), "matter": matter}
            body = await gateway.query(query, variables, headers=headers)
            return any(
                e["extensions"]["code"] == "QUERY_TOO_COMPLEX" for e in body.get("errors", [])
            )

        assert not await cost_refused(1, PUBLIC, None)  # 2
        assert await cost_refused(2, PUBLIC, None)  # 4 > 2
        assert not await cost_refused(2, {}, "CO-JOINT-REVIEW")  # the office: default 4
        assert await cost_refused(3, {}, "CO-JOINT-REVIEW")
        # ENV-DISCHARGE-PERMIT does not use quality: 1 record per subject.
        both = bearer(
            "environment_official", "quality_official", department="environment", region="430100"
        )
        assert not await cost_refused(8, both, ENV_MATTER)  # the larger of 6 and 8
        assert await cost_refused(9, both, ENV_MATTER)
        unknown_too = bearer("environment_official", "astronaut", department="environment")
        assert not await cost_refused(6, unknown_too, ENV_MATTER)
        assert await cost_refused(7, unknown_too, ENV_MATTER)  # an unknown role adds no budget


async def test_the_shipped_budgets_let_a_full_batch_through(
    gateway: Gateway, dataset: Dataset
) -> None:
    body = await gateway.query(
        SUBJECTS.format(
            "name environment { name } quality { name } health { name } commerce { name } "
            "lists { listName } grades { value } sources { department }"
        ),
        {"ids": _ids(dataset, 100)},
    )
    assert "errors" not in body
    public = await gateway.query(
        SUBJECTS.format("environment { name } quality { name } health { name } commerce { name }"),
        {"ids": _ids(dataset, 26)},
        headers=PUBLIC,
    )
    assert _refusal(public)["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 104,
        "maxCost": 100,
    }


async def test_a_refused_query_is_audited_as_refused_lookups(
    registries: dict[str, RegistryServer], dataset: Dataset, tmp_path: Path
) -> None:
    policy = policy_with_budgets(tmp_path / "policy.toml", BUDGET)
    path = tmp_path / "audit.db"
    async with running_gateway(
        registries, access={"policy": str(policy)}, audit={"url": f"sqlite:///{path}"}
    ) as gateway:
        ids = _ids(dataset, 3)
        body = await gateway.query(
            SUBJECTS.format(
                "environment { name } quality { name } health { name } commerce { name }"
            ),
            {"ids": ids, "matter": ENV_MATTER},
            headers={**ENV, "x-request-id": "costly-1"},
        )
        assert "data" in body  # the environment official reads environment only: 3 records
        await gateway.query(
            SUBJECTS.format(
                "environment { name } quality { name } health { name } commerce { name }"
            ),
            {"ids": ids},
            headers={"x-request-id": "costly-2"},
        )
        entries = [e async for e in gateway.services.audit.store.iter_entries()]
    refused = [e for e in entries if e.request_id == "costly-2"]
    assert [e.subject for e in refused] == ids
    assert {e.outcome for e in refused} == {"DENIED"}
    assert all(e.denied == ("Query.subject",) and e.returned == () for e in refused)
    assert all(e.matter == "CO-JOINT-REVIEW" for e in refused)


def test_a_budget_must_not_be_negative(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[roles.narrow]\nmax_cost = -1\nfields = ["Query.subject"]\n')
    with pytest.raises(ConfigError, match=r"roles\.narrow\.max_cost"):
        load_policy(policy, build_schema()._schema)
    policy.write_text('default_max_cost = "lots"\n[roles.narrow]\nfields = ["Query.subject"]\n')
    with pytest.raises(ConfigError, match="default_max_cost"):
        load_policy(policy, build_schema()._schema)


def test_the_shipped_policy_sets_the_public_budget() -> None:
    policy = load_policy(DEFAULTS_DIR / "policy.toml", build_schema()._schema)
    assert policy.max_cost({"public"}) == 100
    assert policy.max_cost({"credit_office"}) == DEFAULT_MAX_COST
    assert policy.max_cost({"public", "credit_office"}) == DEFAULT_MAX_COST
    assert policy.max_cost({"astronaut"}) == DEFAULT_MAX_COST
