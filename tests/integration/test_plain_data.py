"""The plain-data fast path answers exactly what graphql-core's own completion answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry

from connectors.deadline import Deadline
from connectors.errors import SourceState
from connectors.records import QualityRecord
from gateway.execution import Executor
from gateway.policy import load_policy
from gateway.settings import AccessSettings, GraphQLSettings
from registries.dataset import Dataset
from resolvers.catalogue import Catalogue, Matter
from resolvers.context import RequestContext
from resolvers.outcome import SourceOutcome
from resolvers.principal import Principal
from schema import build_schema
from schema.examples import PROFILE_QUERY
from schema.query import Query
from tests.support import Gateway

OFFICE = Principal(
    "office-1",
    department="credit_office",
    roles=frozenset({"credit_office"}),
    scopes=frozenset({"pii"}),
)

# The example query without the two per-request timings, which differ between any two runs.
STABLE_PROFILE = PROFILE_QUERY.replace("ageSeconds latencyMs ", "")

TRICKY = """
query($id: ID!, $matter: ID) {
  subject(id: $id, matter: $matter) {
    __typename
    environment {
      __typename
      n1: name
      name
      penalties { publicity { until } publicity { state startsOn } authority { name } }
      penalties { documentNumber fine: fineAmount authority { code } }
      grades { ...G }
      licences { ... on Licence { licenceKind } validTo }
    }
    commerce {
      registration { legalRepresentative { name idNumber } status }
      listEntries @include(if: true) { category current }
    }
    lists { category department current enteredOn }
    sources { department status fromCache __typename }
  }
}
fragment G on CreditGrade { value scheme }
"""


def _standard_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query)


async def _both(
    gateway: Gateway, query: str, variables: dict[str, Any], context: RequestContext | None = None
) -> tuple[Any, Any]:
    services = gateway.services
    fast = build_schema()
    standard = _standard_schema()
    # Warm the cache first, so that both runs see the same `fromCache` and `fetchedAt`.
    await fast.execute(
        query,
        variable_values=variables,
        context_value=context or RequestContext("w", services.sources),
    )
    results = []
    for schema in (fast, standard):
        ctx = context or RequestContext("t", services.sources)
        results.append(await schema.execute(query, variable_values=variables, context_value=ctx))
    fast_result, standard_result = (
        (r.data, [(e.message, e.path) for e in r.errors or ()]) for r in results
    )
    return fast_result, standard_result


async def test_profiles_of_every_kind_are_identical(gateway: Gateway, dataset: Dataset) -> None:
    for index in range(0, 600, 4):
        subject_id = dataset.subject(index).id
        fast, standard = await _both(gateway, STABLE_PROFILE, {"id": subject_id})
        assert fast == standard, subject_id


async def test_aliases_duplicates_typename_fragments_and_directives(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    for subject_id in samples.values():
        fast, standard = await _both(gateway, TRICKY, {"id": subject_id})
        assert fast == standard
        assert fast[1] == []


class _Broken:
    """A registry answer that slipped past validation: a null where the schema promises a value."""

    def __init__(self, record: QualityRecord) -> None:
        self.record = record

    async def load_many(
        self, ids: Sequence[str], deadline: Deadline | None = None
    ) -> list[SourceOutcome]:
        return [self._outcome() for _ in ids]

    def cached(self, subject_id: str) -> SourceOutcome | None:
        return self._outcome()

    def _outcome(self) -> SourceOutcome:
        return SourceOutcome(
            "quality", SourceState.OK, record=self.record, fetched_at=datetime.now(UTC)
        )

    def start(
        self, ids: Sequence[str], deadline: Deadline | None = None
    ) -> list[asyncio.Future[SourceOutcome]]:
        raise AssertionError("a cached department is never fetched ahead")

    def fresh(self, subject_id: str) -> bool:
        return True


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("name", None, ["name"]),
        ("penalties", None, ["penalties"]),
        ("penalties", [None], ["penalties", 0]),  # a null item: the list's own fast path
    ],
)
async def test_a_broken_record_is_reported_exactly_as_graphql_core_reports_it(
    gateway: Gateway, field: str, value: object, path: list[object]
) -> None:
    values: dict[str, Any] = {
        "subject_id": "91110000600037341L",
        "name": "n",
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        "penalties": [],
    }
    values[field] = value
    record = QualityRecord.model_construct(**values)
    catalogue = Catalogue((Matter("T-1", "t", "credit_office", "b", "m", ("quality",), ()),))
    context = RequestContext(
        "t", {"quality": _Broken(record)}, principal=OFFICE, catalogue=catalogue
    )
    query = (
        '{ subject(id: "91110000600037341L", matter: "T-1") '
        "{ kind quality { name penalties { facts } } } }"
    )
    fast, standard = await _both(gateway, query, {}, context)
    assert fast == standard
    assert fast[0] == {"subject": {"kind": "LEGAL_PERSON", "quality": None}}
    assert fast[1][0][1] == ["subject", "quality", *path]


async def test_compiled_plans_are_reused_across_requests(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    schema = build_schema()
    policy = load_policy(AccessSettings().policy, schema._schema)
    executor = Executor(schema, GraphQLSettings(), policy)  # parses each query text once

    async def run_all() -> None:
        for name in ("penalised", "red", "natural_person"):
            context = RequestContext(
                "t",
                gateway.services.sources,
                principal=OFFICE,
                catalogue=gateway.services.catalogue,
            )
            variables = {"id": samples[name], "matter": "CO-JOINT-REVIEW"}
            result = await executor.run(STABLE_PROFILE, variables, None, context, OFFICE)
            assert not result.errors

    await run_all()
    plans = _plans_of(schema)
    compiled = len(plans)
    # Sections are compiled whole, and so are the lists of plain items (each a single call).
    assert {"EnvironmentSection", "[ListEntry!]", "[CreditGrade!]", "[SourceStatus!]"} <= {
        type_name for type_name, _ in plans
    }
    await run_all()
    await run_all()
    assert len(plans) == compiled


def _plans_of(schema: strawberry.Schema) -> Any:
    method = schema.execution_context_class.complete_object_value
    cells = {
        cell.cell_contents for cell in method.__closure__ or () if hasattr(cell, "cell_contents")
    }
    (compiler,) = [c for c in cells if hasattr(c, "_plans")]
    return compiler._plans
