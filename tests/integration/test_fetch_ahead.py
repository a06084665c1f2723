"""Fetching ahead: a lookup's department loads start before execution reaches its resolver.

What must hold: the loads started ahead are exactly the ones the resolver makes (one call per
department, counted at the real registries, never a second one from the resolver), and nothing is
fetched ahead where the resolver would read nothing: variables that do not coerce, no purpose,
an invalid id, a batch over its limit, a section the matter does not use, a cached record.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from gateway.execution import Executor
from gateway.query_cost import OperationLookups
from registries.server import RegistryServer
from resolvers.principal import Principal
from resolvers.subject import planned_loads
from schema.examples import PROFILE_QUERY
from tests.support import OFFICE, Gateway, bearer, calls, request_context

OFFICE_HEADERS = bearer("credit_office", department="credit_office", scopes=["pii"])
MATTER = "CO-JOINT-REVIEW"
DEPARTMENTS = ("environment", "quality", "health", "commerce")


async def _settled(gateway: Gateway) -> None:
    """Wait until no department fetch is in flight. A fetch started ahead registers as in flight
    before execution starts, so once the answer is back, zero in flight means none is pending."""
    sources = gateway.services.sources.values()
    for _ in range(500):
        if not any(source.inflight for source in sources):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("department fetches still in flight after 5 s")


def _executor(gateway: Gateway) -> Executor:
    executor = gateway.services.executor
    assert isinstance(executor, Executor)
    return executor


async def test_the_loads_start_before_execution_and_the_resolver_joins_them(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    context = request_context(gateway)
    executor = _executor(gateway)
    prepared = executor._parse(PROFILE_QUERY)
    operation = prepared.operations[None]
    lookups = OperationLookups(operation).of({"id": samples["penalised"], "matter": MATTER})
    variables = {"id": samples["penalised"], "matter": MATTER}
    missing = executor._fetch_ahead(lookups, operation, variables, context)
    assert [department for department, _ in missing] == list(DEPARTMENTS)
    await executor._start_ahead(missing, context)
    # Started, maybe not yet answered: every department's load is in the request's loaders.
    for department in DEPARTMENTS:
        assert context._loader(department).cache_map.get(samples["penalised"]) is not None
    result = await executor.run(PROFILE_QUERY, variables, None, context, OFFICE)
    assert not result.errors
    assert [calls(registries[d]) for d in DEPARTMENTS] == [1, 1, 1, 1]


async def test_the_first_departments_load_starts_a_loop_turn_before_the_others() -> None:
    """Its request leaves before the others are started (a cold profile's response is timed by
    its first request's departure); the others start at the next turn, all before execution."""
    started: list[list[str]] = []

    class Recorder:
        def prefetch(self, missing: list[tuple[str, list[str]]]) -> None:
            started.append([department for department, _ in missing])

    missing = [(department, ["91430726894679592D"]) for department in DEPARTMENTS]
    starting = asyncio.ensure_future(Executor._start_ahead(missing, cast(Any, Recorder())))
    await asyncio.sleep(0)
    assert started == [["environment"]]
    await starting
    assert started == [["environment"], ["quality", "health", "commerce"]]


async def test_a_cold_profile_asks_each_registry_once(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    body = await gateway.query(
        PROFILE_QUERY, {"id": samples["penalised"], "matter": MATTER}, headers=OFFICE_HEADERS
    )
    assert "errors" not in body, body
    assert [calls(registries[d]) for d in DEPARTMENTS] == [1, 1, 1, 1]
    rows = body["data"]["subject"]["sources"]
    assert {row["status"] for row in rows} == {"OK"}
    assert not any(row["fromCache"] for row in rows)
    again = await gateway.query(
        PROFILE_QUERY, {"id": samples["penalised"], "matter": MATTER}, headers=OFFICE_HEADERS
    )
    assert all(row["fromCache"] for row in again["data"]["subject"]["sources"])
    assert [calls(registries[d]) for d in DEPARTMENTS] == [1, 1, 1, 1]


async def test_many_subjects_are_one_batch_per_department(
    gateway: Gateway, registries: dict[str, RegistryServer], dataset: Any
) -> None:
    ids = [dataset.subject(i).id for i in range(20)]
    body = await gateway.query(
        "query($ids: [ID!]!, $m: ID) { subjects(ids: $ids, matter: $m) { environment { name } "
        "quality { name } } a: subject(id: $one, matter: $m) { environment { name } } }".replace(
            "$m: ID)", "$m: ID, $one: ID!)"
        ),
        {"ids": ids, "m": MATTER, "one": ids[0]},
        headers=OFFICE_HEADERS,
    )
    assert "errors" not in body, body
    assert calls(registries["environment"]) == 1
    assert calls(registries["quality"]) == 1
    assert calls(registries["health"]) == calls(registries["commerce"]) == 0


NOTHING_READ = {
    "a variable of the wrong type elsewhere": (
        "query($id: ID!, $m: ID, $d: String) { subject(id: $id, matter: $m) "
        "{ environment { name } } matters(department: $d) { id } }",
        {"d": ["not", "a", "string"]},
        "BAD_REQUEST",
    ),
    "a directive's variable of the wrong type": (
        "query($id: ID!, $m: ID, $yes: Boolean!) { subject(id: $id, matter: $m) "
        "{ environment { name @include(if: $yes) } } }",
        {"yes": "maybe"},
        "BAD_REQUEST",
    ),
    "an id that is not an id": (
        "query($id: ID!, $m: ID) { subject(id: $id, matter: $m) { environment { name } } }",
        {"id": {"not": "an id"}},
        "BAD_REQUEST",
    ),
    "no matter": (
        "query($id: ID!) { subject(id: $id) { environment { name } } }",
        {"m": None},
        "PURPOSE_REQUIRED",
    ),
    "an unknown matter": (
        "query($id: ID!, $m: ID) { subject(id: $id, matter: $m) { environment { name } } }",
        {"m": "NO-SUCH-MATTER"},
        "UNKNOWN_MATTER",
    ),
    "an invalid id": (
        "query($id: ID!, $m: ID) { subject(id: $id, matter: $m) { environment { name } } }",
        {"id": "91430100MA4L1234X0"},
        "INVALID_SUBJECT_ID",
    ),
    "too many ids": (
        "query($ids: [ID!]!, $m: ID) { subjects(ids: $ids, matter: $m) { environment { name } } }",
        {"ids": ["91110000600037341L"] * 101},
        "BATCH_TOO_LARGE",
    ),
}


@pytest.mark.parametrize(
    ("query", "overrides", "code"), list(NOTHING_READ.values()), ids=list(NOTHING_READ)
)
async def test_nothing_is_fetched_ahead_where_nothing_is_read(
    gateway: Gateway,
    registries: dict[str, RegistryServer],
    samples: dict[str, str],
    query: str,
    overrides: dict[str, Any],
    code: str,
) -> None:
    # The same query once with good variables for another subject first: the gateway then has
    # the query parsed, validated and its access plan cached, as in production.
    good = {"id": samples["clean"], "m": MATTER, "ids": [samples["clean"]], "yes": True}
    await gateway.query(query, good, headers=OFFICE_HEADERS)
    await _settled(gateway)
    before = sum(calls(server) for server in registries.values())
    variables = {"id": samples["penalised"], "m": MATTER, **overrides}
    body = await gateway.query(query, variables, headers=OFFICE_HEADERS)
    codes = {error["extensions"]["code"] for error in body.get("errors", [])}
    assert code in codes, body
    await _settled(gateway)
    assert sum(calls(server) for server in registries.values()) == before


async def test_a_section_the_matter_does_not_use_is_not_fetched_ahead(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    env = bearer("environment_official", department="environment", region="430100")
    body = await gateway.query(
        "query($id: ID!, $m: ID) { subject(id: $id, matter: $m) "
        "{ environment { name } lists { department } } }",
        {"id": samples["penalised"], "m": "ENV-DISCHARGE-PERMIT"},
        headers=env,
    )
    assert "errors" not in body, body
    await _settled(gateway)
    served = {d: calls(registries[d]) for d in DEPARTMENTS}
    assert served["environment"] == 1
    assert all(count <= 1 for count in served.values()), served


async def test_nothing_is_fetched_ahead_for_a_cached_profile(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    variables = {"id": samples["penalised"], "matter": MATTER}
    await gateway.query(PROFILE_QUERY, variables, headers=OFFICE_HEADERS)
    context = request_context(gateway)
    executor = _executor(gateway)
    operation = executor._parse(PROFILE_QUERY).operations[None]
    lookups = OperationLookups(operation).of(variables)
    assert not executor._fetch_ahead(lookups, operation, variables, context)


async def test_load_plans_are_the_apps_and_kept_apart_per_principal(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    """A selection's load plan is made once for the app per matter and principal (the query's
    cost, the fetch ahead and the resolver of every later request read it), never shared with
    another principal, whose matters may differ."""
    plans = gateway.services.load_plans
    plans.clear()
    fields = frozenset({"environment", "lists", "name"})
    first, again = (request_context(gateway, OFFICE, plans) for _ in range(2))
    ids = [samples["penalised"]]
    assert planned_loads(first, ids, MATTER, fields) == planned_loads(again, ids, MATTER, fields)
    assert len(plans) == 1
    colleague = Principal(
        "office-2", department="credit_office", roles=frozenset({"credit_office"})
    )
    other = request_context(gateway, colleague, plans)
    planned_loads(other, ids, MATTER, fields)
    assert len(plans) == 2
    ((key_a, plan_a), (key_b, plan_b)) = plans.items()
    assert {cast(tuple[Any, ...], key)[-1] for key in (key_a, key_b)} == {OFFICE, colleague}
    assert plan_a is not plan_b

    # Served: a profile's plan lands in the app's map, under the principal that asked.
    plans.clear()
    response = await gateway.post(
        {"query": PROFILE_QUERY, "variables": {"id": samples["clean"], "matter": MATTER}}
    )
    assert response.status_code == 200
    (served,) = plans
    assert cast(tuple[Any, ...], served)[-1].roles == frozenset({"credit_office"})
