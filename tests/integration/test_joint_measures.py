"""Every department of the plan over real HTTP, credit reports, and joint measures per matter.

The gateway here serves all eleven reference registries; the subjects are the dataset's samples,
each crafted for one case (blacklisted, red-listed, both, exited entry, expired report, dishonest
legal representative), and every expectation is checked against the registries' own records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from connectors.catalog import DEPARTMENTS
from connectors.records import ListCategory, today_in_china
from registries.dataset import Dataset
from registries.server import RegistryServer
from tests.support import Gateway, bearer, calls, ready, running_gateway, serving

ALL_DEPARTMENTS = tuple(DEPARTMENTS)
NEW_SECTIONS = {
    "food_drug": "foodDrug { name grades { value } licences { certificateNumber } "
    "penalties { documentNumber } inspections { reportNumber } }",
    "bidding": "bidding { name bids { projectCode role bidOn } penalties { documentNumber } "
    "listEntries { listType } }",
    "education": "education { name teacherRecords { certificateNumber year } "
    "researchViolations { projectCode banUntil } }",
    "tax": "tax { name grades { scheme value year } listEntries { listType } }",
    "customs": "customs { name grades { scheme value } listEntries { listType } }",
    "court": "court { name judgmentDebtorCases { caseNumber court { name } performance } "
    "listEntries { listType current } }",
}
MEASURES = """
query($id: ID!, $matter: ID, $evaluate: ID) {
  subject(id: $id, matter: $matter) {
    jointMeasures(matter: $evaluate) {
      matter complete missingDepartments
      restrictions { ...applied }
      incentives { ...applied }
      withheldIncentives { ...applied }
      blacklistedBy { listType }
    }
    sources { department status }
  }
}
fragment applied on AppliedMeasure {
  measure { id kind extendsToOfficers }
  bases {
    entry { department listType category current }
    grade { scheme value }
    officer { name idNumber }
  }
}
"""
BIDDING = "BD-BIDDER-ADMISSION"


@pytest.fixture(scope="module")
async def all_registries(dataset: Dataset) -> AsyncIterator[dict[str, RegistryServer]]:
    async with serving({d: RegistryServer(d, dataset) for d in ALL_DEPARTMENTS}) as servers:
        yield servers


@pytest.fixture
async def full(all_registries: dict[str, RegistryServer]) -> AsyncIterator[Gateway]:
    await ready(all_registries)
    async with running_gateway(all_registries) as gateway:
        yield gateway


async def _evaluate(
    gateway: Gateway,
    subject_id: str,
    matter: str = BIDDING,
    evaluate: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    body = await gateway.query(
        MEASURES, {"id": subject_id, "matter": matter, "evaluate": evaluate}, **kwargs
    )
    assert "errors" not in body, body["errors"]
    evaluation: dict[str, Any] = body["data"]["subject"]["jointMeasures"]
    return evaluation


def _ids(applied: list[dict[str, Any]]) -> list[str]:
    return [m["measure"]["id"] for m in applied]


def _index(dataset: Dataset, subject_id: str) -> int:
    index = dataset.index_of(subject_id)
    assert index is not None
    return index


async def test_every_new_section_shows_its_registrys_record(
    full: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    for sample in ("dishonest", "red", "both"):
        subject_id = samples[sample]
        query = (
            "query($id: ID!, $matter: ID) {{ subject(id: $id, matter: $matter) {{ {} }} }}".format(
                " ".join(NEW_SECTIONS.values())
            )
        )
        body = await full.query(query, {"id": subject_id})
        assert "errors" not in body, body["errors"]
        subject = body["data"]["subject"]
        index = _index(dataset, subject_id)
        for department, selection in NEW_SECTIONS.items():
            field = selection.split(" ", 1)[0]
            record = dataset.record(department, index)
            if record is None:
                assert subject[field] is None, (sample, department)
                continue
            assert subject[field]["name"] == record.name, (sample, department)
        court = dataset.record("court", index)
        if court is not None:
            cases = subject["court"]["judgmentDebtorCases"]
            assert [c["caseNumber"] for c in cases] == [
                c.case_number
                for c in court.judgment_debtor_cases  # type: ignore[attr-defined]
            ]
        bidding = dataset.record("bidding", index)
        if bidding is not None:
            assert len(subject["bidding"]["bids"]) == len(bidding.bids)  # type: ignore[attr-defined]


async def test_lists_and_grades_gather_every_department_consulted(
    full: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    subject_id = samples["both"]
    body = await full.query(
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { "
        "lists { department listType category current } grades { department scheme value } "
        "sources { department status } } }",
        {"id": subject_id},
    )
    subject = body["data"]["subject"]
    assert [s["department"] for s in subject["sources"]] == list(ALL_DEPARTMENTS)
    index = _index(dataset, subject_id)
    expected = sorted(
        (d, e.list_type)
        for d in ALL_DEPARTMENTS
        if (record := dataset.record(d, index)) is not None
        for e in record.list_entries
    )
    assert sorted((e["department"], e["listType"]) for e in subject["lists"]) == expected
    categories = [e["category"] for e in subject["lists"]]
    assert categories == sorted(categories, key=["BLACK", "WATCH", "RED"].index)
    schemes = {g["scheme"] for g in subject["grades"]}
    assert schemes <= {"environment", "food_drug", "tax", "customs"}


async def test_reports_show_expired_ones_as_expired(
    full: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    subject_id = samples["expired_report"]
    body = await full.query(
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { reports { "
        "reportNumber validUntil expired rating provider { kind name code filingNumber } } } }",
        {"id": subject_id},
    )
    reports = body["data"]["subject"]["reports"]
    record = dataset.record("credit_agency", _index(dataset, subject_id))
    assert record is not None
    assert sorted(r["reportNumber"] for r in reports) == sorted(
        r.report_number
        for r in record.reports  # type: ignore[attr-defined]
    )
    today = today_in_china()
    for report in reports:
        assert report["expired"] is (date.fromisoformat(report["validUntil"]) < today)
    assert any(r["expired"] for r in reports)
    flags = [r["expired"] for r in reports]
    assert flags == sorted(flags)  # valid ones first
    for report in reports:
        agency = report["provider"]["kind"] == "AGENCY"
        assert (report["provider"]["filingNumber"] is not None) is agency


async def test_dishonest_subject_is_restricted_with_its_entry_as_basis(
    full: Gateway, samples: dict[str, str]
) -> None:
    evaluation = await _evaluate(full, samples["dishonest"])
    assert evaluation["matter"] == BIDDING
    assert evaluation["complete"] is True
    restrictions = {m["measure"]["id"]: m for m in evaluation["restrictions"]}
    assert "P_PUBLIC_RESOURCE" in restrictions
    for basis in restrictions["P_PUBLIC_RESOURCE"]["bases"]:
        assert basis["entry"]["category"] == "BLACK"
        assert basis["entry"]["current"] is True
        assert basis["entry"]["listType"] in {
            "SERIOUS_DISHONEST",
            "BIDDING_BLACKLIST",
            "JUDGMENT_DEBTOR",
            "MAJOR_TAX_VIOLATION",
        }
    assert evaluation["incentives"] == []
    assert evaluation["blacklistedBy"]
    # Only measures the matter uses: the bidding matter applies no consumption restrictions.
    assert not [m for m in _ids(evaluation["restrictions"]) if m.startswith("C_")]


async def test_red_listed_subject_gets_the_bidding_bonus(
    full: Gateway, samples: dict[str, str]
) -> None:
    evaluation = await _evaluate(full, samples["red"])
    assert _ids(evaluation["incentives"]) == ["I_BIDDING_BONUS"]
    bases = evaluation["incentives"][0]["bases"]
    assert any(b["entry"] and b["entry"]["category"] == "RED" for b in bases) or any(
        b["grade"] == {"scheme": "tax", "value": "A"} for b in bases
    )
    assert evaluation["restrictions"] == []
    assert evaluation["withheldIncentives"] == []


async def test_clean_subject_has_no_measure(full: Gateway, samples: dict[str, str]) -> None:
    evaluation = await _evaluate(full, samples["clean"])
    assert evaluation["restrictions"] == []
    assert evaluation["incentives"] == []
    assert evaluation["withheldIncentives"] == []
    assert evaluation["complete"] is True


async def test_black_and_red_listed_subject_has_its_incentives_withheld(
    full: Gateway, samples: dict[str, str]
) -> None:
    evaluation = await _evaluate(full, samples["both"])
    assert "P_PUBLIC_RESOURCE" in _ids(evaluation["restrictions"])
    assert evaluation["incentives"] == []
    assert _ids(evaluation["withheldIncentives"]) == ["I_BIDDING_BONUS"]


async def test_an_exited_entry_has_no_effect(
    full: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    subject_id = samples["exited"]
    index = _index(dataset, subject_id)
    black = [
        e
        for d in ALL_DEPARTMENTS
        if (record := dataset.record(d, index)) is not None
        for e in record.list_entries
        if e.category is ListCategory.BLACK
    ]
    assert black
    assert not [e for e in black if e.is_current_on(today_in_china())]
    evaluation = await _evaluate(full, subject_id, matter="CO-JOINT-REVIEW")
    assert [m for m in _ids(evaluation["restrictions"]) if m.startswith(("P_", "C_"))] == [
        m for m in _ids(evaluation["restrictions"]) if m == "P_KEY_SUPERVISION"
    ]  # a low grade may still call for key supervision; no black-list restriction applies
    assert evaluation["blacklistedBy"] == []


async def test_dishonest_legal_representative_bans_the_company(
    full: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    subject_id = samples["dishonest_officer"]
    registration = dataset.record("commerce", _index(dataset, subject_id)).registration  # type: ignore[union-attr]
    person = registration.legal_representative
    assert person.id_number is not None
    evaluation = await _evaluate(full, subject_id)
    officer_bans = [m for m in evaluation["restrictions"] if m["measure"]["id"] == "P_OFFICER_BAN"]
    assert len(officer_bans) == 1
    assert officer_bans[0]["measure"]["extendsToOfficers"] is True
    basis = officer_bans[0]["bases"][0]
    assert basis["entry"]["listType"] == "JUDGMENT_DEBTOR"
    assert basis["officer"] == {"name": person.name, "idNumber": person.id_number}
    # The company itself is not a judgment debtor: no other restriction comes from that entry.
    for applied in evaluation["restrictions"]:
        if applied["measure"]["id"] != "P_OFFICER_BAN":
            assert all(b["officer"] is None for b in applied["bases"])

    # Without the pii scope the officer's id number is masked, not the measure.
    masked = await _evaluate(
        full,
        subject_id,
        headers=bearer("bidding_official", department="bidding"),
    )
    officer = next(m for m in masked["restrictions"] if m["measure"]["id"] == "P_OFFICER_BAN")
    shown = officer["bases"][0]["officer"]["idNumber"]
    assert shown != person.id_number
    assert shown[:6] == person.id_number[:6]
    assert "*" in shown

    # The representative's records were read: the audit says so, naming the company.
    entries = [
        e async for e in full.services.audit.store.iter_entries() if e.subject == person.id_number
    ]
    assert entries
    assert entries[-1].via == f"legal representative of {subject_id}"
    assert entries[-1].matter == BIDDING


async def test_officers_are_consulted_only_when_a_measure_extends_to_them(
    full: Gateway, samples: dict[str, str], all_registries: dict[str, RegistryServer]
) -> None:
    subject_id = samples["dishonest_officer"]
    quality = bearer("quality_official", department="quality")
    await _evaluate(full, subject_id, matter="QA-SUPERVISION-SAMPLING", headers=quality)
    assert calls(all_registries["court"]) == 0  # neither the matter nor an officer needs it
    await _evaluate(full, subject_id)
    assert calls(all_registries["court"]) == 2  # the company, then its representative


async def test_evaluation_is_incomplete_when_a_department_fails(
    full: Gateway, samples: dict[str, str], all_registries: dict[str, RegistryServer]
) -> None:
    await all_registries["court"].stop()
    evaluation = await _evaluate(full, samples["clean"])
    assert evaluation["complete"] is False
    assert "court" in evaluation["missingDepartments"]


async def test_measures_use_only_what_the_matter_may_read(
    full: Gateway, samples: dict[str, str], all_registries: dict[str, RegistryServer]
) -> None:
    # Evaluating another matter the principal may use consults that matter's departments.
    body = await full.query(
        MEASURES,
        {"id": samples["dishonest"], "matter": "QA-SUPERVISION-SAMPLING", "evaluate": BIDDING},
        headers=bearer("quality_official", department="quality"),
    )
    assert body["data"]["subject"]["jointMeasures"]["matter"] == BIDDING
    assert calls(all_registries["bidding"]) >= 1  # the subject (and its representative)

    # Another department's matter that is not shared is refused at its path, and not fetched.
    for server in all_registries.values():
        server.state.stats.reset()
    body = await full.query(
        MEASURES,
        {
            "id": samples["dishonest"],
            "matter": "ENV-DISCHARGE-PERMIT",
            "evaluate": "TX-INVOICE-SUPPLY",
        },
        headers=bearer("environment_official", department="environment"),
    )
    assert body["data"]["subject"]["jointMeasures"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["subject", "jointMeasures"]
    assert sum(calls(server) for server in all_registries.values()) == 0


async def test_the_public_cannot_ask_for_joint_measures_or_reports(
    full: Gateway, samples: dict[str, str]
) -> None:
    body = await full.query(
        "query($id: ID!) { subject(id: $id) { name reports { rating } "
        'jointMeasures(matter: "BD-BIDDER-ADMISSION") { complete } } }',
        {"id": samples["dishonest"]},
        headers={"authorization": ""},
    )
    codes = sorted(e["extensions"]["code"] for e in body["errors"])
    assert codes == ["FORBIDDEN", "FORBIDDEN"]
    assert body["data"]["subject"]["name"]


async def test_measures_catalogue_is_published(full: Gateway) -> None:
    body = await full.query(
        "{ measures { id kind group lists grades extendsToOfficers legalBasis } }",
        headers={"authorization": ""},
    )
    measures = {m["id"]: m for m in body["data"]["measures"]}
    assert measures["P_OFFICER_BAN"]["extendsToOfficers"] is True
    assert "JUDGMENT_DEBTOR" in measures["C_FLIGHT"]["lists"]
    assert "tax:A" in measures["I_BIDDING_BONUS"]["grades"]
    assert {m["kind"] for m in measures.values()} == {"RESTRICTION", "INCENTIVE"}
    assert len(measures) == 28


async def test_another_matters_departments_feed_only_its_evaluation(
    full: Gateway, samples: dict[str, str]
) -> None:
    """Evaluating a shared matter may consult departments the lookup's matter does not use;
    their records must not leak into `lists`, `grades` or `reports`."""
    body = await full.query(
        'query($id: ID!) { subject(id: $id, matter: "ENV-DISCHARGE-PERMIT") { '
        "lists { department } grades { department } "
        'jointMeasures(matter: "BD-BIDDER-ADMISSION") { matter } sources { department } } }',
        {"id": samples["both"]},
        headers=bearer("environment_official", department="environment"),
    )
    assert "errors" not in body, body["errors"]
    subject = body["data"]["subject"]
    readable = {"environment", "commerce", "court", "tax"}  # the lookup's matter's sections
    assert {e["department"] for e in subject["lists"]} <= readable
    assert {g["department"] for g in subject["grades"]} <= readable
    consulted = [s["department"] for s in subject["sources"]]
    assert set(consulted) > readable  # bidding and others were asked, for the evaluation
    assert consulted == [d for d in ALL_DEPARTMENTS if d in consulted]  # in the gateway's order


async def test_a_department_the_matter_uses_but_the_gateway_lacks_leaves_it_incomplete(
    all_registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    without_court = {d: s for d, s in all_registries.items() if d != "court"}
    async with running_gateway(without_court) as gateway:
        evaluation = await _evaluate(gateway, samples["dishonest_officer"])
    assert evaluation["complete"] is False
    assert "court (not configured)" in evaluation["missingDepartments"]


async def test_the_public_does_not_see_debtors_taken_off_the_list(
    full: Gateway, samples: dict[str, str], dataset: Dataset
) -> None:
    today = today_in_china()
    for sample in ("exited", "dishonest", "dishonest_officer"):
        record = dataset.record("court", _index(dataset, samples[sample]))
        cases = record.judgment_debtor_cases if record else []  # type: ignore[attr-defined]
        if any(c.exited_on is not None and c.exited_on <= today for c in cases):
            break
    else:
        raise AssertionError("the dataset should hold a sample with an exited debtor case")
    query = "query($id: ID!) { subject(id: $id) { court { judgmentDebtorCases { exitedOn } } } }"
    public = await full.query(query, {"id": samples[sample]}, headers={"authorization": ""})
    shown = public["data"]["subject"]["court"]["judgmentDebtorCases"]
    assert all(c["exitedOn"] is None or date.fromisoformat(c["exitedOn"]) > today for c in shown)
    official = await full.query(
        query.replace("$id: ID!", "$id: ID!, $matter: ID").replace(
            "subject(id: $id)", "subject(id: $id, matter: $matter)"
        ),
        {"id": samples[sample]},
    )
    assert len(official["data"]["subject"]["court"]["judgmentDebtorCases"]) == len(cases)
