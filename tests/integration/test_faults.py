"""A registry that is down, slow, hangs or lies costs only its own section.

The matrix of injected faults (each one: the code, the `sources` row, the calls retried, the
deadline, the audit) and the circuit breaker are in test_fault_injection.py; these are the
cases around it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from registries.faults import Faults
from registries.server import RegistryServer
from schema.examples import PROFILE_QUERY
from tests.support import calls, running_gateway

BATCH_QUERY = """
query($ids: [ID!]!, $matter: ID) {
  subjects(ids: $ids, matter: $matter) {
    environment { name } quality { name } health { name } commerce { name }
    sources { department status message }
  }
}
"""


async def test_slow_within_the_timeout_is_fine(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    registries["environment"].state.faults.replace(Faults(latency_ms=200, jitter_ms=100))
    async with running_gateway(registries, connector={"timeout_s": 5}) as gateway:
        body = await gateway.query(PROFILE_QUERY, {"id": samples["clean"]})
    assert "errors" not in body
    rows = {s["department"]: s["status"] for s in body["data"]["subject"]["sources"]}
    assert set(rows.values()) == {"OK"}


async def test_one_bad_record_in_a_batch_spoils_only_that_subject(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """A registry answering for the wrong subject is caught: the id must match the request."""
    async with running_gateway(registries) as gateway:
        source = gateway.services.sources["quality"]
        connector: Any = source.connector
        original = connector._validate_record

        def lying(subject_id: str, raw: object) -> Any:
            if subject_id == samples["penalised"] and isinstance(raw, dict):
                raw = {**raw, "subjectId": samples["clean"]}
            return original(subject_id, raw)

        connector._validate_record = lying
        ids = [samples["clean"], samples["penalised"]]
        body = (await gateway.post({"query": BATCH_QUERY, "variables": {"ids": ids}})).json()
    first, second = body["data"]["subjects"]
    assert first["quality"] is not None
    assert second["quality"] is None
    (error,) = body["errors"]
    assert error["path"] == ["subjects", 1, "quality"]
    assert error["extensions"]["code"] == "SOURCE_BAD_RESPONSE"
    assert "different subject" in error["message"]


async def test_lists_still_resolve_from_the_departments_that_answered(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    registries["environment"].state.faults.replace(Faults(error_rate=1))
    async with running_gateway(registries) as gateway:
        body = await gateway.query(
            "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { lists { "
            "department category } "
            "sources { department status } } }",
            {"id": samples["dishonest"]},
        )
    assert "errors" not in body  # lists are partial, not failed; sources tell which part
    subject = body["data"]["subject"]
    assert any(e["category"] == "BLACK" for e in subject["lists"])
    assert all(e["department"] != "environment" for e in subject["lists"])
    rows = {s["department"]: s["status"] for s in subject["sources"]}
    assert rows["environment"] == "ERROR"


async def test_a_slow_registry_gets_at_most_max_connections_calls_at_once(
    registries: dict[str, RegistryServer], dataset: Any
) -> None:
    """Five lookups of distinct subjects, two slots: the third call cannot start while the first
    two are held for 1.5 s, so shortly after two have arrived the registry still counts two."""
    registries["quality"].state.faults.replace(Faults(latency_ms=1500))
    query = (
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { quality { name } } }"
    )
    async with running_gateway(
        registries, connector={"max_connections": 2, "timeout_s": 10}, graphql={"deadline_s": 30}
    ) as gateway:
        tasks = [
            asyncio.create_task(gateway.query(query, {"id": dataset.subject(i).id}))
            for i in range(5)
        ]
        for _ in range(500):
            if calls(registries["quality"]) >= 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        arrived = calls(registries["quality"])
        bodies = await asyncio.gather(*tasks)
    assert arrived == 2
    assert all("errors" not in body for body in bodies)
    assert calls(registries["quality"]) == 5
