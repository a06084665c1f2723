"""The seven departments of issue 4 over real HTTP, and what every department's data promises.

Profiles are checked across all eleven registries at once, because the promises are joint: a CLEAN
subject has no current black or red entry and no top grade *anywhere*, so it triggers no measure.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import aiohttp
import orjson
import pytest
from stdnum.cn import ric, uscc

from connectors.records import (
    RECORD_MODELS,
    BatchResponse,
    BiddingRecord,
    CourtRecord,
    CreditAgencyRecord,
    CreditReportProviderKind,
    CustomsRecord,
    EducationRecord,
    FoodDrugRecord,
    ListCategory,
    PerformanceStatus,
    RegistryHealth,
    SubjectPage,
    SubjectRecord,
    TaxRecord,
)
from connectors.vocabulary import default_vocabulary
from registries.app import RegistryState
from registries.dataset import Dataset
from registries.departments import DEPARTMENTS, court
from registries.departments.lists import is_top_grade
from registries.departments.tax import latest_assessed_year
from registries.subjects import Profile, Story, SubjectKind, SubjectSeed

from .conftest import TODAY, Population, StartRegistry

NEW_DEPARTMENTS = ("food_drug", "bidding", "education", "tax", "customs", "court", "credit_agency")
FOREIGN = "91110000600037341L"
NEUTRAL_GRADES = frozenset(
    {"environment:BLUE", "tax:B", "tax:M", "food_drug:B", "customs:REGULAR", "customs:CERTIFIED"}
)
"""The grades a CLEAN subject may have: neither the best (rewarded) nor a low one (restricted)."""


def test_the_new_departments_are_served_in_port_order() -> None:
    assert DEPARTMENTS[:4] == ("environment", "quality", "health", "commerce")
    assert DEPARTMENTS[4:] == NEW_DEPARTMENTS
    assert set(RECORD_MODELS) == set(DEPARTMENTS)


@pytest.mark.parametrize("department", NEW_DEPARTMENTS)
async def test_served_over_http(
    department: str, start_registry: StartRegistry, http: aiohttp.ClientSession, ds10k: Dataset
) -> None:
    server = await start_registry(department)
    model = RECORD_MODELS[department]
    held = [ds10k.subject(i).id for i in range(300) if ds10k.holds(department, i)][:4]
    unheld = next(ds10k.subject(i).id for i in range(300) if not ds10k.holds(department, i))
    assert held
    async with http.get(f"{server.url}/v1/subjects/{held[0]}") as response:
        assert response.status == 200
        assert response.headers["ETag"]
        record = model.model_validate_json(await response.read())
    assert record == ds10k.record_for(department, held[0])
    async with http.get(f"{server.url}/v1/subjects/{unheld}") as response:
        assert response.status == 404
    ids = [*held, unheld, FOREIGN, held[0]]
    async with http.post(f"{server.url}/v1/subjects:batch", json={"ids": ids}) as response:
        batch = BatchResponse.model_validate_json(await response.read())
    assert list(batch.records) == held
    assert batch.missing == [unheld, FOREIGN]
    for subject_id, raw in batch.records.items():
        assert model.model_validate(raw) == ds10k.record_for(department, subject_id)
    async with http.get(f"{server.url}/v1/subjects", params={"limit": "3"}) as response:
        page = SubjectPage.model_validate_json(await response.read())
    assert page.ids == held[:3]
    async with http.get(f"{server.url}/v1/health") as response:
        health = RegistryHealth.model_validate_json(await response.read())
    assert health.department == department


@pytest.mark.parametrize("department", NEW_DEPARTMENTS)
def test_two_datasets_serve_identical_bodies(department: str) -> None:
    first = RegistryState(department, Dataset(size=10_000, seed=42, today=TODAY))
    second = RegistryState(department, Dataset(size=10_000, seed=42, today=TODAY))
    other = RegistryState(department, Dataset(size=10_000, seed=43, today=TODAY))
    served = 0
    for index in range(0, 10_000, 41):
        encoded = first.encoded(index)
        assert encoded == second.encoded(index)
        served += encoded is not None
    assert served > 10
    assert [first.encoded(i) for i in range(50)] != [other.encoded(i) for i in range(50)]


def current(record: SubjectRecord, category: ListCategory) -> bool:
    return any(e.category is category and e.is_current_on(TODAY) for e in record.list_entries)


def test_profiles_hold_across_all_registries(population: Population) -> None:
    seen: Counter[tuple[Profile, Story]] = Counter()
    for subject, records in population:
        seen[subject.profile, subject.story] += 1
        black = any(current(record, ListCategory.BLACK) for record in records.values())
        red = any(current(record, ListCategory.RED) for record in records.values())
        top = any(is_top_grade(g) for record in records.values() for g in record.grades)
        entries = [e for record in records.values() for e in record.list_entries]
        if subject.profile is Profile.CLEAN:
            assert not black, subject
            assert not red, subject
            assert not top, subject
            grades = {f"{g.scheme}:{g.value}" for r in records.values() for g in r.grades}
            assert grades <= NEUTRAL_GRADES, subject
            assert not [e for e in entries if e.is_current_on(TODAY)], subject
        elif subject.profile is Profile.DISHONEST:
            assert black, subject
            assert not top, subject
        elif subject.profile is Profile.RED and subject.kind is SubjectKind.LEGAL_PERSON:
            assert red, subject
            assert top, subject
        if subject.story is Story.BLACK_AND_RED:
            assert black, subject
        elif subject.profile is not Profile.DISHONEST:
            assert not black, subject
        if subject.story is Story.EXITED_BLACK:
            assert any(e.category is ListCategory.BLACK for e in entries), subject
    assert seen[Profile.PENALISED, Story.EXITED_BLACK] > 20
    assert seen[Profile.RED, Story.BLACK_AND_RED] > 3
    assert seen[Profile.DISHONEST, Story.DISHONEST_OFFICER] > 10


def test_every_term_the_generators_emit_is_in_the_vocabulary(population: Population) -> None:
    vocabulary = default_vocabulary()
    list_types: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    for _, records in population:
        for department, record in records.items():
            for entry in record.list_entries:
                term = vocabulary.list_type(entry.list_type)
                assert (entry.list_name, entry.category) == (term.name, term.category)
                assert term.kept_by(department), (department, entry.list_type)
                list_types[entry.list_type] += 1
            for grade in record.grades:
                scheme = vocabulary.grade_scheme(grade.scheme)
                value = scheme.value(grade.value)
                assert grade.label == value.label
                assert grade.department == scheme.department == department
                if grade.score is not None and value.scored:
                    assert value.covers(grade.score), grade
                grades[f"{grade.scheme}:{grade.value}"] += 1
    assert set(list_types) == set(vocabulary.lists) - {"KEY_SUPERVISION"}
    every_value = {f"{s.id}:{v.value}" for s in vocabulary.grade_schemes for v in s.values}
    assert set(grades) == every_value


def records_of(population: Population, department: str) -> list[tuple[SubjectSeed, SubjectRecord]]:
    return [(s, r[department]) for s, r in population if department in r]


def test_court_cases_and_entries_agree(population: Population) -> None:
    persons = 0
    for subject, records in population:
        record = records.get("court")
        if court.currently_listed(subject):
            assert record is not None
            assert current(record, ListCategory.BLACK)
        if record is None:
            continue
        assert isinstance(record, CourtRecord)
        persons += subject.kind is SubjectKind.NATURAL_PERSON
        assert len(record.judgment_debtor_cases) == len(record.list_entries)
        for case, entry in zip(record.judgment_debtor_cases, record.list_entries, strict=True):
            assert re.fullmatch(r"（\d{4}）湘\d{2}(\d{2})?执\d+号", case.case_number)
            assert entry.list_type == "JUDGMENT_DEBTOR"
            assert entry.document_number == case.case_number
            assert (entry.entered_on, entry.exited_on) == (case.published_on, case.exited_on)
            assert case.filed_on < case.published_on < TODAY
            assert case.court.name.endswith("人民法院")
            assert uscc.is_valid(case.court.code or "")
            assert (case.exited_on is None) == (case.performance is not PerformanceStatus.PERFORMED)
            assert entry.is_current_on(TODAY) == (case.exited_on is None)
        if subject.large and subject.story is Story.PLAIN and subject.profile is Profile.CLEAN:
            assert record.judgment_debtor_cases == []
    assert persons > 5


def test_credit_reports(population: Population) -> None:
    valid = expired = agencies = offices = 0
    for subject, record in records_of(population, "credit_agency"):
        assert isinstance(record, CreditAgencyRecord)
        assert 1 <= len(record.reports) <= 2
        for report in record.reports:
            assert report.issued_on < TODAY
            assert report.is_valid_on(report.valid_until)
            assert not report.is_valid_on(report.valid_until + timedelta(days=1))
            valid += report.is_valid_on(TODAY)
            expired += not report.is_valid_on(TODAY)
            provider = report.provider
            if provider.kind is CreditReportProviderKind.AGENCY:
                agencies += 1
                assert uscc.is_valid(provider.code or "")
                assert provider.filing_number
            else:
                offices += 1
                assert provider.filing_number is None
            if report.rating == "AAA":
                assert subject.profile is Profile.RED
    assert valid > 100
    assert expired > valid
    assert agencies > 3 * offices > 0


def test_tax_grades_one_per_year_and_the_lists_they_imply(population: Population) -> None:
    latest = latest_assessed_year(TODAY)
    for subject, record in records_of(population, "tax"):
        assert isinstance(record, TaxRecord)
        years = [grade.year for grade in record.grades]
        assert years == list(range(latest, latest - len(years), -1))
        assert len(years) <= 3
        in_force = [g for g in record.grades if g.valid_until and g.valid_until >= TODAY]
        assert in_force == record.grades[:1]
        types = {entry.list_type for entry in record.list_entries if entry.is_current_on(TODAY)}
        top = bool(record.grades) and record.grades[0].value == "A"
        assert ("A_TAXPAYER" in types) == top
        assert top == (subject.profile is Profile.RED and bool(record.grades))
        if "MAJOR_TAX_VIOLATION" in types and record.grades:  # none before the first assessment
            assert record.grades[0].value == "D"


def test_customs_food_drug_bidding_and_education(population: Population) -> None:
    bids = misconduct = teachers = 0
    for subject, records in population:
        profile = subject.profile
        customs_record = records.get("customs")
        if customs_record is not None:
            assert isinstance(customs_record, CustomsRecord)
            (grade,) = customs_record.grades
            aeo = current(customs_record, ListCategory.RED)
            assert aeo == (grade.value == "ADVANCED_CERTIFIED") == (profile is Profile.RED)
            assert len(customs_record.licences[0].certificate_number) == 10
        food = records.get("food_drug")
        if food is not None:
            assert isinstance(food, FoodDrugRecord)
            assert food.licences
            assert all((g.value == "A") == (profile is Profile.RED) for g in food.grades)
        bidding = records.get("bidding")
        if bidding is not None:
            assert isinstance(bidding, BiddingRecord)
            assert bidding.bids
            bids += len(bidding.bids)
            assert current(bidding, ListCategory.BLACK) == (profile is Profile.DISHONEST)
        education = records.get("education")
        if education is not None:
            assert isinstance(education, EducationRecord)
            person = subject.kind is SubjectKind.NATURAL_PERSON
            assert bool(education.teacher_records) == person
            for teacher in education.teacher_records:
                assert (teacher.conduct_result == "不合格") <= bool(teacher.violations)
            misconduct += len(education.research_violations)
            teachers += person
            if current(education, ListCategory.BLACK):
                assert profile is Profile.DISHONEST
                assert education.research_violations
    assert bids > 500
    assert misconduct > 5
    assert teachers > 30


def test_legal_representatives_are_valid_and_only_storied_ones_are_listed(
    ds10k: Dataset, population: Population
) -> None:
    listed = 0
    for subject, records in population:
        commerce = records.get("commerce")
        registration = getattr(commerce, "registration", None)
        if registration is None or subject.kind is not SubjectKind.LEGAL_PERSON:
            continue
        id_number = registration.legal_representative.id_number or ""
        assert ric.is_valid(id_number)
        index = ds10k.index_of(id_number)
        officer = None if index is None else ds10k.subject(index)
        is_listed = officer is not None and court.currently_listed(officer)
        if is_listed:
            listed += 1
            assert subject.story is Story.DISHONEST_OFFICER
        elif subject.story is Story.DISHONEST_OFFICER:
            pytest.fail(f"{subject.id}'s representative is not a listed person of the dataset")
    assert listed > 10


def test_records_encode_to_json_the_models_read_back(population: Population) -> None:
    for _, records in population[:300]:
        for department, record in records.items():
            body = orjson.dumps(record.model_dump(mode="json", by_alias=True))
            assert RECORD_MODELS[department].model_validate_json(body) == record
