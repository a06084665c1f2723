"""The synthetic dataset: determinism, valid identifiers, reverse lookup, profiles, records."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from stdnum.cn import ric, uscc

from connectors.records import (
    RECORD_MODELS,
    ListCategory,
    PublicityState,
    Severity,
    SubjectRecord,
)
from registries.dataset import SAMPLE_KEYS, Dataset
from registries.departments import DEPARTMENTS, UnknownDepartment
from registries.departments.context import add_months, add_years
from registries.divisions import BY_CODE
from registries.identifiers import org_code_check
from registries.subjects import Profile, SubjectKind, SubjectSeed

from .conftest import TODAY


def dump(record: SubjectRecord | None) -> object:
    return None if record is None else record.model_dump(mode="json", by_alias=True)


def assert_valid_id(subject: SubjectSeed, today: date) -> None:
    code = subject.id
    if subject.kind is SubjectKind.NATURAL_PERSON:
        ric.validate(code)  # raises with the reason if invalid (checks place and birth year)
        assert code[:6] in BY_CODE
        birth = ric.get_birth_date(code)
        assert date(1950, 1, 1) <= birth <= min(date(2004, 12, 31), today)
        assert subject.birth_date == birth
        assert code[14:17] != "000"
    else:
        assert uscc.is_valid(code), code
        assert code[:2] == ("91" if subject.kind is SubjectKind.LEGAL_PERSON else "92")
        assert code[2:8] in BY_CODE
        assert code[2:8] == subject.division_code
        assert org_code_check(code[8:16]) == code[16]


def test_same_seed_same_data_and_different_seed_different_data(ds10k: Dataset) -> None:
    again = Dataset(size=10_000, seed=42, today=TODAY)
    other = Dataset(size=10_000, seed=43, today=TODAY)
    for index in range(0, 10_000, 97):
        assert again.subject(index) == ds10k.subject(index)
        for department in DEPARTMENTS:
            assert dump(again.record(department, index)) == dump(ds10k.record(department, index))
    ids = [ds10k.subject(index).id for index in range(200)]
    assert ids != [other.subject(index).id for index in range(200)]
    assert len(set(ids)) == len(ids)


def test_subject_identity_does_not_depend_on_the_day(ds10k: Dataset) -> None:
    later = Dataset(size=10_000, seed=42, today=date(2026, 3, 1))
    for index in range(0, 10_000, 503):
        assert later.subject(index).id == ds10k.subject(index).id


def test_every_generated_id_is_valid(ds10k: Dataset) -> None:
    kinds: Counter[SubjectKind] = Counter()
    for index in range(4000):
        subject = ds10k.subject(index)
        kinds[subject.kind] += 1
        assert_valid_id(subject, TODAY)
    assert min(kinds.values()) > 200


def test_a_million_subjects_without_a_table() -> None:
    big = Dataset(size=1_000_000, seed=42, today=TODAY)
    rng = random.Random(0)
    indices = [*range(999_000, 1_000_000, 7), *(rng.randrange(1_000_000) for _ in range(600))]
    for index in indices:
        subject = big.subject(index)
        assert_valid_id(subject, TODAY)
        assert big.index_of(subject.id) == index
    with pytest.raises(IndexError):
        big.subject(1_000_000)


def test_index_of_round_trips(ds10k: Dataset) -> None:
    for index in range(0, 10_000, 3):
        assert ds10k.index_of(ds10k.subject(index).id) == index


def test_index_of_normalises_the_id(ds10k: Dataset) -> None:
    code = ds10k.subject(3).id
    assert ds10k.index_of(f" {code[:6]}-{code[6:].lower()} ") == 3


@pytest.mark.parametrize(
    "foreign",
    [
        "91110000600037341L",  # valid USCC, Beijing, legacy digits
        "92340603MA2PBN17X5",  # valid USCC with an MA body
        "11010519491231002X",  # valid resident ID number
        "360426199101010071",
        "121200004013590816",  # an institution
        "",
        "not an id",
        "91430104MA4L0K3X2Z",  # bad check character
    ],
)
def test_index_of_rejects_foreign_ids(ds10k: Dataset, foreign: str) -> None:
    assert ds10k.index_of(foreign) is None


def test_index_of_rejects_ids_of_other_datasets(ds10k: Dataset) -> None:
    other_seed = Dataset(size=10_000, seed=7, today=TODAY)
    smaller = Dataset(size=1000, seed=42, today=TODAY)
    for index in range(0, 10_000, 50):
        assert ds10k.index_of(other_seed.subject(index).id) is None
        expected = index if index < 1000 else None
        assert smaller.index_of(ds10k.subject(index).id) == expected


def test_kinds_and_profiles_are_distributed_as_specified(ds10k: Dataset) -> None:
    subjects = [ds10k.subject(index) for index in range(5000)]
    kinds = Counter(subject.kind for subject in subjects)
    profiles = Counter(subject.profile for subject in subjects)
    assert 0.81 < kinds[SubjectKind.LEGAL_PERSON] / 5000 < 0.89
    assert 0.05 < kinds[SubjectKind.INDIVIDUAL_BUSINESS] / 5000 < 0.09
    assert 0.06 < kinds[SubjectKind.NATURAL_PERSON] / 5000 < 0.10
    assert 0.71 < profiles[Profile.CLEAN] / 5000 < 0.79
    assert 0.15 < profiles[Profile.PENALISED] / 5000 < 0.21
    assert 0.018 < profiles[Profile.DISHONEST] / 5000 < 0.045
    assert 0.025 < profiles[Profile.RED] / 5000 < 0.055


def test_coverage_of_each_registry(ds10k: Dataset) -> None:
    held: Counter[tuple[str, SubjectKind]] = Counter()
    kinds: Counter[SubjectKind] = Counter()
    for index in range(5000):
        kind = ds10k.subject(index).kind
        kinds[kind] += 1
        for department in DEPARTMENTS:
            held[department, kind] += ds10k.holds(department, index)

    def share(department: str, kind: SubjectKind) -> float:
        return held[department, kind] / kinds[kind]

    assert share("commerce", SubjectKind.LEGAL_PERSON) == 1.0
    assert share("commerce", SubjectKind.INDIVIDUAL_BUSINESS) == 1.0
    assert 0.55 < share("environment", SubjectKind.LEGAL_PERSON) < 0.67
    assert 0.44 < share("quality", SubjectKind.LEGAL_PERSON) < 0.56
    assert 0.30 < share("health", SubjectKind.LEGAL_PERSON) < 0.40
    assert 0.50 < share("health", SubjectKind.NATURAL_PERSON) < 0.70
    assert (
        share("tax", SubjectKind.LEGAL_PERSON) == share("tax", SubjectKind.INDIVIDUAL_BUSINESS) == 1
    )
    assert 0.40 < share("food_drug", SubjectKind.LEGAL_PERSON) < 0.60
    assert 0.40 < share("bidding", SubjectKind.LEGAL_PERSON) < 0.60
    assert 0.25 < share("education", SubjectKind.LEGAL_PERSON) < 0.40
    assert 0.25 < share("education", SubjectKind.NATURAL_PERSON) < 0.45
    assert 0.25 < share("customs", SubjectKind.LEGAL_PERSON) < 0.45
    assert 0.15 < share("court", SubjectKind.LEGAL_PERSON) < 0.35
    assert 0.65 < share("credit_agency", SubjectKind.LEGAL_PERSON) < 0.85
    # Natural persons only in health, education and court; individual businesses only where
    # they trade, pay tax or are sued.
    persons = {"health", "education", "court"}
    shops = {"commerce", "quality", "health", "food_drug", "tax", "court"}
    for department in DEPARTMENTS:
        assert (held[department, SubjectKind.NATURAL_PERSON] > 0) == (department in persons)
        assert (held[department, SubjectKind.INDIVIDUAL_BUSINESS] > 0) == (department in shops)
        assert held[department, SubjectKind.LEGAL_PERSON] > 0


def test_every_record_validates_and_follows_the_subject_profile(ds10k: Dataset) -> None:
    eia = 0
    for index in range(1500):
        subject = ds10k.subject(index)
        for department in DEPARTMENTS:
            record = ds10k.record(department, index)
            assert (record is None) == (not ds10k.holds(department, index))
            if record is None:
                continue
            model = RECORD_MODELS[department]
            assert type(record) is model
            assert model.model_validate_json(record.model_dump_json(by_alias=True)) == record
            assert record.subject_id == subject.id
            assert record.name == subject.name
            assert record.updated_at.tzinfo is not None
            assert record.updated_at < datetime.combine(TODAY, datetime.min.time(), UTC)
            assert_profile(subject, record)
            eia += bool(getattr(record, "eia_reviews", None))
    assert eia > 0


PENALISING = frozenset(
    {"environment", "quality", "health", "commerce", "food_drug", "bidding", "tax"}
)
"""The departments that decide administrative penalties (the others keep none)."""


def assert_profile(subject: SubjectSeed, record: SubjectRecord) -> None:
    penalties = record.penalties
    if record.department not in PENALISING or subject.profile in (Profile.CLEAN, Profile.RED):
        assert penalties == []
    elif subject.profile is Profile.PENALISED:
        assert 1 <= len(penalties) <= 3
    else:
        assert any(penalty.severity is Severity.SERIOUS for penalty in penalties)
    for penalty in penalties:
        window = penalty.publicity
        months = 12 if penalty.severity is Severity.SERIOUS else 3
        assert window.starts_on == penalty.decision_date < TODAY
        assert window.minimum_until == add_months(penalty.decision_date, months)
        assert window.until == add_years(penalty.decision_date, 3)
        if window.repaired_on is not None:
            assert window.minimum_until < window.repaired_on < TODAY
        assert uscc.is_valid(penalty.authority.code or "")
        assert (penalty.authority.code or "").startswith("11")
        assert penalty.document_number.endswith("号")
    if record.department == "commerce" and subject.profile is Profile.DISHONEST:
        assert any(
            entry.category is ListCategory.BLACK
            and entry.list_type == "SERIOUS_DISHONEST"
            and entry.is_current_on(TODAY)
            for entry in record.list_entries
        )
    if record.department == "commerce":
        registration = getattr(record, "registration", None)
        assert registration is not None
        assert ric.is_valid(registration.legal_representative.id_number or "")


def test_publicity_states_all_occur(ds10k: Dataset) -> None:
    states: Counter[PublicityState] = Counter()
    for index in range(3000):
        record = ds10k.record("commerce", index)
        for penalty in record.penalties if record else []:
            states[penalty.publicity.state_on(TODAY)] += 1
    assert set(states) == set(PublicityState)
    assert states[PublicityState.PUBLIC] > states[PublicityState.REPAIRED_HIDDEN]


def test_records_are_cached_but_bounded(ds10k: Dataset) -> None:
    assert ds10k.record("commerce", 5) is ds10k.record("commerce", 5)


def test_unknown_department_is_rejected(ds10k: Dataset) -> None:
    with pytest.raises(UnknownDepartment, match="tourism"):
        ds10k.record("tourism", 0)


def test_the_day_must_be_recent_enough() -> None:
    with pytest.raises(ValueError, match="today"):
        Dataset(today=date(2010, 1, 1))
    with pytest.raises(ValueError, match="size"):
        Dataset(size=0)


@pytest.mark.parametrize("size", [1000, 10_000])
def test_samples_fulfil_their_definitions(size: int) -> None:
    dataset = Dataset(size=size, seed=42, today=TODAY)
    samples = dataset.samples()
    assert tuple(samples) == SAMPLE_KEYS
    assert set(SAMPLE_KEYS) >= {
        "clean",
        "penalised",
        "dishonest",
        "red",
        "natural_person",
        "individual_business",
    }
    subject = {key: dataset.subject(dataset.index_of(code) or 0) for key, code in samples.items()}
    assert all(subject[key].id == code for key, code in samples.items())

    def everywhere(key: str) -> bool:
        return all(dataset.record_for(department, samples[key]) for department in DEPARTMENTS)

    assert subject["clean"].profile is Profile.CLEAN
    assert subject["clean"].kind is SubjectKind.LEGAL_PERSON
    assert everywhere("clean")
    assert subject["penalised"].profile is Profile.PENALISED
    assert subject["penalised"].kind is SubjectKind.LEGAL_PERSON
    assert everywhere("penalised")
    assert any(
        penalty.publicity.state_on(TODAY) is PublicityState.PUBLIC
        for department in DEPARTMENTS
        for penalty in (
            dataset.record_for(department, samples["penalised"]) or dump_none()
        ).penalties
    )
    for key, category in (("dishonest", ListCategory.BLACK), ("red", ListCategory.RED)):
        assert subject[key].kind is SubjectKind.LEGAL_PERSON
        commerce = dataset.record_for("commerce", samples[key])
        assert commerce is not None
        assert any(
            entry.category is category and entry.is_current_on(TODAY)
            for entry in commerce.list_entries
        )
    assert subject["dishonest"].profile is Profile.DISHONEST
    assert subject["red"].profile is Profile.RED
    assert subject["natural_person"].kind is SubjectKind.NATURAL_PERSON
    assert dataset.record_for("health", samples["natural_person"]) is not None
    assert subject["individual_business"].kind is SubjectKind.INDIVIDUAL_BUSINESS
    assert dataset.samples() == samples


def dump_none() -> SubjectRecord:
    raise AssertionError("a sample held by every registry lacks a record")


def test_samples_fail_clearly_when_the_scan_is_too_short(ds10k: Dataset) -> None:
    with pytest.raises(LookupError, match="first 5 subjects"):
        ds10k.samples(limit_scan=5)


def test_ids_after_pages_through_every_held_id_once(ds300: Dataset) -> None:
    for department in DEPARTMENTS:
        expected = [
            ds300.subject(index).id for index in range(300) if ds300.holds(department, index)
        ]
        seen: list[str] = []
        cursor = None
        while True:
            ids, cursor = ds300.ids_after(department, cursor, 37)
            seen.extend(ids)
            if cursor is None:
                break
        assert seen == expected


def test_ids_after_rejects_a_foreign_cursor(ds300: Dataset) -> None:
    with pytest.raises(ValueError, match="cursor"):
        ds300.ids_after("commerce", "91110000600037341L", 10)
