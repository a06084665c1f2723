"""A registry that is down, slow, hangs or lies costs only its own section."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from registries.faults import Faults
from registries.server import RegistryServer
from schema.examples import PROFILE_QUERY
from tests.support import DEPARTMENTS, calls, running_gateway

TIMEOUT_S = 0.5
"""Connector timeout in these tests; injected delays are far longer, margins generous."""
MARGIN_S = 4.0

BATCH_QUERY = """
query($ids: [ID!]!, $matter: ID) {
  subjects(ids: $ids, matter: $matter) {
    environment { name } quality { name } health { name } commerce { name }
    sources { department status message }
  }
}
"""

FAULTS: list[tuple[str, Faults, str, str]] = [
    ("http 500", Faults(error_rate=1), "SOURCE_UNAVAILABLE", "ERROR"),
    ("http 429", Faults(rate_limit_rate=1), "SOURCE_UNAVAILABLE", "ERROR"),
    ("connection dropped", Faults(drop_rate=1), "SOURCE_UNAVAILABLE", "ERROR"),
    ("malformed json", Faults(malformed_rate=1), "SOURCE_BAD_RESPONSE", "BAD_RESPONSE"),
    ("wrong schema", Faults(wrong_schema_rate=1), "SOURCE_BAD_RESPONSE", "BAD_RESPONSE"),
    ("huge payload", Faults(huge_payload_rate=1), "SOURCE_BAD_RESPONSE", "BAD_RESPONSE"),
    ("slow past the timeout", Faults(latency_ms=5000), "SOURCE_TIMEOUT", "TIMEOUT"),
    ("hang before headers", Faults(hang_rate=1), "SOURCE_TIMEOUT", "TIMEOUT"),
    ("hang mid-body", Faults(hang_body_rate=1), "SOURCE_TIMEOUT", "TIMEOUT"),
]


def _assert_only_environment_failed(
    subject: dict[str, Any], errors: list[dict[str, Any]], path: list[Any], code: str, state: str
) -> None:
    assert subject["environment"] is None
    for department in DEPARTMENTS[1:]:
        assert subject[department] is not None, department
    env_errors = [e for e in errors if e["path"] == [*path, "environment"]]
    assert len(env_errors) == 1, errors
    assert env_errors[0]["extensions"]["code"] == code
    assert env_errors[0]["extensions"]["department"] == "environment"
    rows = {s["department"]: s["status"] for s in subject["sources"]}
    assert rows == {"environment": state, "quality": "OK", "health": "OK", "commerce": "OK"}


@pytest.mark.parametrize(("name", "faults", "code", "state"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_a_faulty_registry_fails_only_its_section(
    registries: dict[str, RegistryServer],
    samples: dict[str, str],
    name: str,
    faults: Faults,
    code: str,
    state: str,
) -> None:
    registries["environment"].state.faults.replace(faults)
    async with running_gateway(
        registries, connector={"timeout_s": TIMEOUT_S, "max_response_bytes": 1_000_000}
    ) as gateway:
        started = time.monotonic()
        response = await gateway.post(
            {"query": PROFILE_QUERY, "variables": {"id": samples["clean"]}}
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        body = response.json()
        _assert_only_environment_failed(
            body["data"]["subject"], body["errors"], ["subject"], code, state
        )
        assert elapsed < TIMEOUT_S + MARGIN_S
        assert "127.0.0.1" not in response.text
        assert "Traceback" not in response.text

        # The batch path fails the same way, for every subject of the batch.
        ids = [samples["clean"], samples["penalised"]]
        batch = (await gateway.post({"query": BATCH_QUERY, "variables": {"ids": ids}})).json()
        for position, subject in enumerate(batch["data"]["subjects"]):
            _assert_only_environment_failed(
                subject, batch["errors"], ["subjects", position], code, state
            )


async def test_a_registry_that_is_down(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    await registries["environment"].stop()
    async with running_gateway(registries, connector={"timeout_s": TIMEOUT_S}) as gateway:
        response = await gateway.post(
            {"query": PROFILE_QUERY, "variables": {"id": samples["clean"]}}
        )
        body = response.json()
        _assert_only_environment_failed(
            body["data"]["subject"], body["errors"], ["subject"], "SOURCE_UNAVAILABLE", "ERROR"
        )
        assert "127.0.0.1" not in response.text
        ready = (await gateway.client.get("/readyz")).json()
        assert ready["status"] == "degraded"
        assert ready["sources"]["environment"] == "down"
        assert ready["sources"]["quality"] == "up"

        # It comes back: the next lookup of another subject is whole again.
        await registries["environment"].start()
        again = await gateway.query(PROFILE_QUERY, {"id": samples["penalised"]})
        assert "errors" not in again
        assert again["data"]["subject"]["environment"] is not None


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
        registries, connector={"max_connections": 2, "timeout_s": 10}
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
