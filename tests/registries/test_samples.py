"""The sample subjects of issue 4 have the properties the demo and the gateway's tests rely on."""

from __future__ import annotations

import aiohttp
import pytest
from stdnum.cn import ric

from connectors.records import (
    CommerceRecord,
    CourtRecord,
    CreditAgencyRecord,
    ListCategory,
    ListEntry,
)
from registries.dataset import SAMPLE_KEYS, Dataset
from registries.departments import DEPARTMENTS
from registries.departments.lists import is_top_grade
from registries.subjects import Profile, SubjectKind

from .conftest import TODAY, StartRegistry


@pytest.fixture(scope="module", params=[1000, 10_000], ids=lambda size: f"{size}")
def sampled(request: pytest.FixtureRequest) -> tuple[Dataset, dict[str, str]]:
    dataset = Dataset(size=request.param, seed=42, today=TODAY)
    return dataset, dataset.samples()


def entries(dataset: Dataset, subject_id: str) -> list[ListEntry]:
    return [
        entry
        for department in DEPARTMENTS
        for entry in getattr(dataset.record_for(department, subject_id), "list_entries", [])
    ]


def current(found: list[ListEntry], category: ListCategory) -> list[ListEntry]:
    return [e for e in found if e.category is category and e.is_current_on(TODAY)]


def held_everywhere(dataset: Dataset, subject_id: str) -> bool:
    return all(dataset.record_for(department, subject_id) for department in DEPARTMENTS)


def test_keys_and_determinism(sampled: tuple[Dataset, dict[str, str]]) -> None:
    dataset, samples = sampled
    assert tuple(samples) == SAMPLE_KEYS
    again = Dataset(size=dataset.size, seed=42, today=TODAY)
    assert again.samples() == samples


def test_clean_triggers_nothing(sampled: tuple[Dataset, dict[str, str]]) -> None:
    dataset, samples = sampled
    code = samples["clean"]
    assert held_everywhere(dataset, code)
    assert entries(dataset, code) == []
    for department in DEPARTMENTS:
        record = dataset.record_for(department, code)
        assert record is not None
        assert not any(is_top_grade(grade) for grade in record.grades), department
    commerce = dataset.record_for("commerce", code)
    assert isinstance(commerce, CommerceRecord)
    assert commerce.registration is not None
    officer = commerce.registration.legal_representative.id_number or ""
    assert not current(entries(dataset, officer), ListCategory.BLACK)


def test_dishonest_is_black_listed_for_bidding(sampled: tuple[Dataset, dict[str, str]]) -> None:
    dataset, samples = sampled
    code = samples["dishonest"]
    restricting = [
        entry
        for department in ("bidding", "commerce")
        for entry in current(
            getattr(dataset.record_for(department, code), "list_entries", []), ListCategory.BLACK
        )
        if entry.list_type in ("BIDDING_BLACKLIST", "SERIOUS_DISHONEST")
    ]
    assert restricting
    assert held_everywhere(dataset, code)  # found everywhere in both datasets of seed 42
    bidding = dataset.record_for("bidding", code)
    assert bidding is not None
    assert [e.list_type for e in current(bidding.list_entries, ListCategory.BLACK)] == [
        "BIDDING_BLACKLIST"
    ]


def test_red_is_rewarded_and_never_black(sampled: tuple[Dataset, dict[str, str]]) -> None:
    dataset, samples = sampled
    code = samples["red"]
    found = entries(dataset, code)
    assert not current(found, ListCategory.BLACK)
    red_types = {entry.list_type for entry in current(found, ListCategory.RED)}
    tax = dataset.record_for("tax", code)
    assert tax is not None
    assert red_types & {"A_TAXPAYER", "HONOUR"} or tax.grades[0].value == "A"
    assert tax.grades[0].value == "A"
    assert "A_TAXPAYER" in red_types


def test_both_has_a_current_black_and_red_entry(sampled: tuple[Dataset, dict[str, str]]) -> None:
    dataset, samples = sampled
    found = entries(dataset, samples["both"])
    assert current(found, ListCategory.BLACK)
    assert current(found, ListCategory.RED)


def test_exited_has_black_entries_none_current(sampled: tuple[Dataset, dict[str, str]]) -> None:
    dataset, samples = sampled
    found = entries(dataset, samples["exited"])
    black = [entry for entry in found if entry.category is ListCategory.BLACK]
    assert black
    assert not current(found, ListCategory.BLACK)
    assert all(
        (entry.exited_on is not None and entry.exited_on <= TODAY)
        or (entry.expires_on is not None and entry.expires_on < TODAY)
        for entry in black
    )


def test_expired_report(sampled: tuple[Dataset, dict[str, str]]) -> None:
    dataset, samples = sampled
    record = dataset.record_for("credit_agency", samples["expired_report"])
    assert isinstance(record, CreditAgencyRecord)
    assert any(report.valid_until < TODAY for report in record.reports)
    assert any(not report.is_valid_on(TODAY) for report in record.reports)


async def test_dishonest_officer_is_listed_at_court(
    start_registry: StartRegistry,
    http: aiohttp.ClientSession,
    ds10k: Dataset,
    samples10k: dict[str, str],
) -> None:
    code = samples10k["dishonest_officer"]
    enterprise = ds10k.subject(ds10k.index_of(code) or 0)
    assert enterprise.id == code
    assert enterprise.kind is SubjectKind.LEGAL_PERSON
    commerce = ds10k.record_for("commerce", code)
    assert isinstance(commerce, CommerceRecord)
    assert commerce.registration is not None
    officer = commerce.registration.legal_representative
    assert ric.is_valid(officer.id_number or "")
    person_index = ds10k.index_of(officer.id_number or "")
    assert person_index is not None
    person = ds10k.subject(person_index)
    assert person.kind is SubjectKind.NATURAL_PERSON
    assert person.name == officer.name
    assert person.profile is Profile.DISHONEST or person.story.name == "BLACK_AND_RED"
    server = await start_registry("court")
    async with http.get(f"{server.url}/v1/subjects/{officer.id_number}") as response:
        assert response.status == 200
        record = CourtRecord.model_validate_json(await response.read())
    assert [e.list_type for e in current(record.list_entries, ListCategory.BLACK)]
    assert all(e.list_type == "JUDGMENT_DEBTOR" for e in record.list_entries)
    assert record.judgment_debtor_cases
