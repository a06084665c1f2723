"""Every lookup leaves an audit entry, committed before its response; no entry, no data."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import AuditEntry, AuditStoreError
from gateway.audit.cli import run_audit_command_async
from registries.server import RegistryServer
from tests.support import PUBLIC, Gateway, bearer, running_gateway

ENV = bearer("environment_official", department="environment", region="430100", name="王五")
QUERY = """
query($id: ID!, $matter: ID) {
  subject(id: $id, matter: $matter) { environment { name } health { name } }
}
"""


@pytest.fixture
async def audited(
    registries: dict[str, RegistryServer], tmp_path: Path
) -> AsyncIterator[tuple[Gateway, Path]]:
    path = tmp_path / "audit.db"
    async with running_gateway(registries, audit={"url": f"sqlite:///{path}"}) as gateway:
        yield gateway, path


async def _entries(gateway: Gateway) -> list[AuditEntry]:
    return [entry async for entry in gateway.services.audit.store.iter_entries()]


async def test_one_entry_per_lookup_with_what_was_returned_and_denied(
    audited: tuple[Gateway, Path], samples: dict[str, str]
) -> None:
    gateway, _ = audited
    body = await gateway.query(
        QUERY,
        {"id": samples["clean"], "matter": "ENV-DISCHARGE-PERMIT"},
        headers={**ENV, "x-request-id": "req-1"},
    )
    assert body["data"]["subject"]["health"] is None
    (entry,) = await _entries(gateway)
    assert entry.request_id == "req-1"
    assert entry.principal.startswith("dev-") or entry.principal
    assert entry.principal_name == "王五"
    assert entry.department == "environment"
    assert entry.region == "430100"
    assert entry.roles == ("environment_official",)
    assert entry.matter == "ENV-DISCHARGE-PERMIT"
    assert entry.subject == samples["clean"]
    assert entry.subject_kind == "LEGAL_PERSON"
    assert "Subject.environment" in entry.returned
    assert entry.denied == ("Subject.health",)
    assert entry.sources == {"environment": "OK"}
    assert entry.outcome == "PARTIAL"
    assert entry.seq == 1


async def test_batch_invalid_and_refused_lookups_are_all_recorded(
    audited: tuple[Gateway, Path], samples: dict[str, str]
) -> None:
    gateway, _ = audited
    await gateway.query(
        "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) { id } }",
        {"ids": [samples["clean"], "not-an-id", samples["red"]]},
    )
    await gateway.query(QUERY, {"id": samples["clean"], "matter": None}, headers=ENV)
    entries = await _entries(gateway)
    assert [e.outcome for e in entries] == ["OK", "INVALID", "OK", "DENIED"]
    assert entries[1].subject == "not-an-id"
    assert len({e.request_id for e in entries[:3]}) == 1  # one request, one group commit
    assert [e.seq for e in entries] == [1, 2, 3, 4]


async def test_pii_reads_are_marked(audited: tuple[Gateway, Path], samples: dict[str, str]) -> None:
    gateway, _ = audited
    query = "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { id name } }"
    await gateway.query(query, {"id": samples["natural_person"]}, headers=PUBLIC)
    await gateway.query(query, {"id": samples["natural_person"]})  # the credit office, with pii
    public, office = await _entries(gateway)
    assert public.masked
    assert not public.unmasked_pii
    assert office.unmasked_pii
    assert not office.masked
    assert public.subject == office.subject == samples["natural_person"]


async def test_no_audit_no_data(
    audited: tuple[Gateway, Path], samples: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway, _ = audited

    async def broken(events: Any) -> Any:
        raise AuditStoreError("disk full")

    monkeypatch.setattr(gateway.services.audit.store, "append_links", broken)
    response = await gateway.post({"query": QUERY, "variables": {"id": samples["clean"]}})
    assert response.status_code == 503
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "disk full" not in response.text
    monkeypatch.undo()
    again = await gateway.query(QUERY, {"id": samples["clean"]})
    assert again["data"]["subject"]["environment"] is not None


async def test_queries_without_lookups_are_not_audited(audited: tuple[Gateway, Path]) -> None:
    gateway, _ = audited
    await gateway.query("{ matters { id } }")
    assert await _entries(gateway) == []


async def test_verify_passes_then_finds_a_hand_edited_row(
    audited: tuple[Gateway, Path], samples: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    gateway, path = audited
    for name in ("clean", "penalised", "dishonest"):
        await gateway.query(QUERY, {"id": samples[name]})
    url = f"sqlite:///{path}"
    args = _verify_args()
    assert await run_audit_command_async(args, url) == 0
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE audit_log SET entry = replace(entry, ?, ?) WHERE seq = 2",
            (samples["penalised"], samples["clean"]),
        )
    assert await run_audit_command_async(args, url) == 1
    assert "2" in capsys.readouterr().out


def _verify_args() -> Any:
    import argparse

    from gateway.audit.cli import add_audit_parser

    parser = argparse.ArgumentParser()
    add_audit_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["audit", "verify"])


async def test_the_same_on_postgresql(
    registries: dict[str, RegistryServer], samples: dict[str, str], postgres_url: str
) -> None:
    table = f"audit_path_{uuid.uuid4().hex[:12]}"
    audit = {"url": postgres_url, "table": table}
    try:
        async with running_gateway(registries, audit=audit) as gateway:
            await gateway.query(QUERY, {"id": samples["clean"]})
            await gateway.query(QUERY, {"id": samples["clean"], "matter": None}, headers=ENV)
            entries = await _entries(gateway)
            assert [e.outcome for e in entries] == ["OK", "DENIED"]
        assert await run_audit_command_async(_verify_args(), postgres_url, table=table) == 0
    finally:
        import asyncpg

        connection = await asyncpg.connect(postgres_url)
        await connection.execute(f'DROP TABLE IF EXISTS "{table}"')
        await connection.close()


USAGE = """
query($from: DateTime!, $to: DateTime!, $department: String) {
  usage(from: $from, to: $to, department: $department) { department matter outcome lookups }
}
"""
PERIOD = {"from": "2020-01-01T00:00:00+08:00", "to": "2100-01-01T00:00:00+08:00"}


async def test_usage_counts_lookups_per_department_matter_and_outcome(
    audited: tuple[Gateway, Path], samples: dict[str, str]
) -> None:
    gateway, _ = audited
    for name in ("clean", "penalised"):
        await gateway.query(
            QUERY, {"id": samples[name], "matter": "ENV-DISCHARGE-PERMIT"}, headers=ENV
        )
    await gateway.query(QUERY, {"id": samples["red"], "matter": None}, headers=ENV)
    await gateway.query(QUERY, {"id": samples["red"]})  # the credit office
    body = await gateway.query(
        USAGE, {**PERIOD, "department": "environment"}, headers=bearer("auditor")
    )
    rows = {(r["matter"], r["outcome"]): r["lookups"] for r in body["data"]["usage"]}
    assert rows == {("ENV-DISCHARGE-PERMIT", "PARTIAL"): 2, (None, "DENIED"): 1}
    everyone = await gateway.query(USAGE, PERIOD)  # the credit office reads usage too
    assert sum(r["lookups"] for r in everyone["data"]["usage"]) == 4


@pytest.mark.parametrize("headers", [ENV, PUBLIC], ids=["official", "public"])
async def test_usage_is_for_auditors_and_the_credit_office(
    audited: tuple[Gateway, Path], headers: dict[str, str]
) -> None:
    gateway, _ = audited
    body = await gateway.query(USAGE, PERIOD, headers=headers)
    assert body["data"] == {"usage": []}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_usage_period_must_be_an_aware_interval(audited: tuple[Gateway, Path]) -> None:
    gateway, _ = audited
    backwards = {"from": PERIOD["to"], "to": PERIOD["from"]}
    body = await gateway.query(USAGE, backwards, headers=bearer("auditor"))
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("role", ["auditor", "astronaut"])
async def test_a_profile_read_the_policy_denies_is_audited(
    audited: tuple[Gateway, Path], samples: dict[str, str], role: str
) -> None:
    gateway, _ = audited
    body = await gateway.query(
        QUERY, {"id": samples["clean"], "matter": "CO-JOINT-REVIEW"}, headers=bearer(role)
    )
    assert body["data"] == {"subject": None}
    (entry,) = await _entries(gateway)
    assert entry.outcome == "DENIED"
    assert entry.subject == samples["clean"]
    assert entry.matter == "CO-JOINT-REVIEW"
    assert entry.roles == (role,)
    assert "Query.subject" in entry.denied


async def test_a_strict_refusal_is_audited(
    registries: dict[str, RegistryServer], samples: dict[str, str], tmp_path: Path
) -> None:
    audit = {"url": f"sqlite:///{tmp_path / 'audit.db'}"}
    async with running_gateway(registries, access={"strict": True}, audit=audit) as gateway:
        response = await gateway.post(
            {
                "query": "query($ids: [ID!]!) "
                '{ subjects(ids: $ids, matter: "ENV-DISCHARGE-PERMIT") { health { name } } }',
                "variables": {"ids": [samples["clean"], samples["red"]]},
            },
            headers=ENV,
        )
        assert response.status_code == 403
        entries = await _entries(gateway)
    assert [(e.subject, e.outcome) for e in entries] == [
        (samples["clean"], "DENIED"),
        (samples["red"], "DENIED"),
    ]
    assert all(e.matter == "ENV-DISCHARGE-PERMIT" for e in entries)
