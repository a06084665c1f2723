"""Full profiles over real HTTP, checked against the registries' own data."""

from __future__ import annotations

import asyncio
from typing import Any

from registries.dataset import Dataset
from registries.faults import Faults
from registries.server import RegistryServer
from schema.examples import PROFILE_QUERY
from tests.support import DEPARTMENTS, Gateway, calls, running_gateway


def _index(dataset: Dataset, subject_id: str) -> int:
    index = dataset.index_of(subject_id)
    assert index is not None
    return index


async def _profile(gateway: Gateway, subject_id: str) -> dict[str, Any]:
    body = await gateway.query(PROFILE_QUERY, {"id": subject_id})
    assert "errors" not in body, body["errors"]
    subject: dict[str, Any] = body["data"]["subject"]
    return subject


async def test_clean_enterprise_has_four_sections_and_four_ok_sources(
    gateway: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    subject = await _profile(gateway, samples["clean"])
    assert subject["id"] == samples["clean"]
    assert subject["kind"] == "LEGAL_PERSON"
    for department in DEPARTMENTS:
        assert subject[department] is not None, department
    assert [(s["department"], s["status"]) for s in subject["sources"]] == [
        (d, "OK") for d in DEPARTMENTS
    ]
    record = dataset.record("commerce", _index(dataset, samples["clean"]))
    assert record is not None
    assert subject["name"] == record.registration.name  # type: ignore[attr-defined]
    assert all(not subject[d]["penalties"] for d in ("environment", "quality", "health"))
    assert not [e for e in subject["lists"] if e["category"] == "BLACK" and e["current"]]


async def test_penalised_enterprise_shows_the_registries_penalties(
    gateway: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    subject = await _profile(gateway, samples["penalised"])
    index = _index(dataset, samples["penalised"])
    shown = 0
    for department in ("environment", "quality", "health"):
        record = dataset.record(department, index)
        expected = [p.document_number for p in record.penalties] if record else []
        section = subject[department]
        got = [p["documentNumber"] for p in section["penalties"]] if section else []
        assert got == expected, department
        shown += len(got)
    assert shown > 0
    states = {
        p["publicity"]["state"]
        for d in ("environment", "quality", "health")
        if subject[d]
        for p in subject[d]["penalties"]
    }
    assert "PUBLIC" in states


async def test_dishonest_enterprise_is_on_a_current_black_list(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    subject = await _profile(gateway, samples["dishonest"])
    black = [e for e in subject["lists"] if e["category"] == "BLACK" and e["current"]]
    assert black
    assert subject["lists"][0]["category"] == "BLACK"  # black entries come first
    assert {e["department"] for e in black} <= set(DEPARTMENTS)
    assert all(e["department"] for e in subject["lists"])


async def test_natural_person(gateway: Gateway, samples: dict[str, str]) -> None:
    subject = await _profile(gateway, samples["natural_person"])
    assert subject["kind"] == "NATURAL_PERSON"
    assert subject["health"] is not None
    assert subject["name"]
    rows = {s["department"]: s["status"] for s in subject["sources"]}
    assert rows["health"] == "OK"
    assert rows["commerce"] == "NOT_FOUND"
    assert subject["commerce"] is None


async def test_individual_business(gateway: Gateway, samples: dict[str, str]) -> None:
    subject = await _profile(gateway, samples["individual_business"])
    assert subject["kind"] == "INDIVIDUAL_BUSINESS"
    assert subject["commerce"]["registration"] is not None


async def test_only_the_requested_sections_are_fetched(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    body = await gateway.query(
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { kind quality { "
        "name } sources { department } } }",
        {"id": samples["clean"]},
    )
    assert [s["department"] for s in body["data"]["subject"]["sources"]] == ["quality"]
    assert {d: calls(s) for d, s in registries.items()} == {
        "environment": 0,
        "quality": 1,
        "health": 0,
        "commerce": 0,
    }


async def test_skip_and_fragments_decide_what_is_consulted(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    query = """
    query($id: ID!, $matter: ID, $skipHealth: Boolean!) {
      subject(id: $id, matter: $matter) { ...parts health @skip(if: $skipHealth) { name }
        sources { department } }
    }
    fragment parts on Subject { ... on Subject { environment { name } } }
    """
    body = await gateway.query(query, {"id": samples["clean"], "skipHealth": True})
    assert [s["department"] for s in body["data"]["subject"]["sources"]] == ["environment"]
    assert calls(registries["health"]) == 0


async def test_kind_and_id_need_no_registry(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    body = await gateway.query(
        '{ subject(id: "9111 0000 6000 37341l", matter: "CO-JOINT-REVIEW") { id kind sources { '
        "department } } }"
    )
    assert body["data"]["subject"] == {
        "id": "91110000600037341L",
        "kind": "LEGAL_PERSON",
        "sources": [],
    }
    assert sum(calls(s) for s in registries.values()) == 0


async def test_invalid_id_is_a_clear_error_and_calls_no_registry(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    for raw, words in [
        ("12345", "18 characters"),
        ("91110000600037341A", "check character"),
        ("11010519490231002X", "not a real date"),
        # A province's code with no such county in it: python-stdnum's lookup raised KeyError
        # here, which reached the client as a 500 INTERNAL.
        ("110199199006151234", "address code 110199"),
        ("", "empty"),
    ]:
        body = await gateway.query(
            "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { id environment "
            "{ name } } }",
            {"id": raw},
        )
        assert body["data"] == {"subject": None}
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "INVALID_SUBJECT_ID"
        assert words in error["message"]
        assert error["path"] == ["subject"]
    assert sum(calls(s) for s in registries.values()) == 0


async def test_subjects_makes_one_batch_call_per_department(
    gateway: Gateway, registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    ids = [dataset.subject(i).id for i in range(100)]
    body = await gateway.query(
        "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) { id "
        "environment { name } quality { name } "
        "health { name } commerce { name } sources { department status } } }",
        {"ids": ids},
    )
    assert "errors" not in body
    assert [s["id"] for s in body["data"]["subjects"]] == ids
    for department, server in registries.items():
        assert server.state.stats.calls("batch") == 1, department
        assert server.state.stats.calls("single") == 0, department
        assert server.state.stats.batch_sizes == [100], department
    for subject, index in zip(body["data"]["subjects"], range(100), strict=True):
        for row in subject["sources"]:
            held = dataset.record(row["department"], index) is not None
            assert row["status"] == ("OK" if held else "NOT_FOUND")


async def test_subjects_splits_batches_by_the_configured_size(
    registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    ids = [dataset.subject(i).id for i in range(250)]
    async with running_gateway(
        registries, connector={"batch_size": 100}, graphql={"max_batch": 300}
    ) as gateway:
        body = await gateway.query(
            "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) { quality "
            "{ name } } }",
            {"ids": ids},
        )
    assert "errors" not in body
    assert sorted(registries["quality"].state.stats.batch_sizes) == [50, 100, 100]


async def test_subjects_with_an_invalid_id_nulls_only_that_entry(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    body = await gateway.query(
        "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) { id } }",
        {"ids": [samples["clean"], "bogus", samples["red"]]},
    )
    assert body["data"]["subjects"] == [{"id": samples["clean"]}, None, {"id": samples["red"]}]
    (error,) = body["errors"]
    assert error["path"] == ["subjects", 1]
    assert error["extensions"]["code"] == "INVALID_SUBJECT_ID"


async def test_too_many_subjects_is_refused(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    body = await gateway.query(
        "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) { id } }",
        {"ids": ["x"] * 101},
    )
    assert body["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert sum(calls(s) for s in registries.values()) == 0


async def test_sections_are_fetched_concurrently(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """All four registries are asked before any of them has answered.

    Each registry holds its answer for 2 s. Asked one after another, the second call could not
    arrive until the first answered; asked concurrently, all four arrive at once. The poll below
    gives up after 1.5 s, before any answer, so this counts calls rather than timing them.
    """
    for server in registries.values():
        server.state.faults.replace(Faults(latency_ms=2000))
    async with running_gateway(registries, connector={"timeout_s": 10}) as gateway:
        task = asyncio.create_task(gateway.query(PROFILE_QUERY, {"id": samples["penalised"]}))
        for _ in range(150):  # at most ~1.5 s, well before any registry answers
            if sum(calls(s) for s in registries.values()) >= 4:
                break
            await asyncio.sleep(0.01)
        arrived = {d: calls(s) for d, s in registries.items()}
        body = await task
    assert arrived == dict.fromkeys(DEPARTMENTS, 1)
    assert "errors" not in body


async def test_name_falls_back_to_other_records_when_commerce_fails(
    registries: dict[str, RegistryServer], samples: dict[str, str], dataset: Dataset
) -> None:
    registries["commerce"].state.faults.replace(Faults(error_rate=1))
    async with running_gateway(registries) as gateway:
        body = await gateway.query(
            "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { name quality { "
            "name } } }",
            {"id": samples["clean"]},
        )
    record = dataset.record("quality", _index(dataset, samples["clean"]))
    assert record is not None
    assert body["data"]["subject"]["name"] == record.name
    assert calls(registries["environment"]) == 0
    assert calls(registries["health"]) == 0
