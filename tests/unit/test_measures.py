"""Evaluating the measures of joint reward and punishment for a subject (resolvers.measures).

Pure logic: records are built directly, and the measures are the shipped file's, so these tests also
pin the targeting that the file gives each measure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

import pytest

from connectors.records import Authority, Grade, ListCategory, ListEntry, Person
from gateway.measures_file import load_measures
from resolvers.measures import (
    AppliedMeasure,
    Measure,
    MeasureBasis,
    MeasureEvaluation,
    MeasureKind,
    evaluate,
)

TODAY = date(2026, 11, 26)
MEASURES = load_measures()

JOINT_REVIEW = ("P_STRICT_LICENSING", "P_MARKET_ACCESS", "P_PUBLIC_RESOURCE", "I_FAST_TRACK")
"""The measures of the catalogue's CO-JOINT-REVIEW matter."""

CATEGORY = {
    "SERIOUS_DISHONEST": ListCategory.BLACK,
    "JUDGMENT_DEBTOR": ListCategory.BLACK,
    "BIDDING_BLACKLIST": ListCategory.BLACK,
    "ABNORMAL_OPERATION": ListCategory.WATCH,
    "A_TAXPAYER": ListCategory.RED,
    "HONOUR": ListCategory.RED,
}
DEPARTMENT = {
    "SERIOUS_DISHONEST": "commerce",
    "JUDGMENT_DEBTOR": "court",
    "BIDDING_BLACKLIST": "bidding",
    "ABNORMAL_OPERATION": "commerce",
    "A_TAXPAYER": "tax",
    "HONOUR": "commerce",
}


def entry(
    list_type: str,
    *,
    entered_on: date = date(2025, 3, 1),
    exited_on: date | None = None,
    expires_on: date | None = None,
    document_number: str | None = None,
) -> ListEntry:
    return ListEntry(
        department=DEPARTMENT[list_type],
        list_type=list_type,
        list_name=list_type.lower(),
        category=CATEGORY[list_type],
        entered_on=entered_on,
        exited_on=exited_on,
        expires_on=expires_on,
        reason="reason",
        basis="basis",
        document_number=document_number,
        authority=Authority(name="长沙市某部门"),
    )


def grade(
    ref: str,
    *,
    year: int | None = 2025,
    assessed_on: date = date(2026, 4, 1),
    valid_until: date | None = None,
) -> Grade:
    scheme, _, value = ref.partition(":")
    return Grade(
        department=scheme,
        scheme=scheme,
        value=value,
        year=year,
        assessed_on=assessed_on,
        valid_until=valid_until,
        authority=Authority(name="湖南省某部门"),
    )


def run(
    matter_measures: Collection[str] = JOINT_REVIEW,
    *,
    entries: Iterable[ListEntry] = (),
    grades: Iterable[Grade] = (),
    officer_entries: Iterable[tuple[Person, ListEntry]] = (),
    missing_departments: Collection[str] = (),
    measures: tuple[Measure, ...] = MEASURES,
) -> MeasureEvaluation:
    return evaluate(
        measures,
        matter_id="CO-JOINT-REVIEW",
        matter_measures=matter_measures,
        entries=entries,
        grades=grades,
        officer_entries=officer_entries,
        today=TODAY,
        missing_departments=missing_departments,
    )


def ids(applied: tuple[AppliedMeasure, ...]) -> list[str]:
    return [a.measure.id for a in applied]


def nothing_applies(evaluation: MeasureEvaluation) -> bool:
    return not (evaluation.restrictions or evaluation.incentives or evaluation.withheld_incentives)


def test_a_blacklisted_subject_gets_the_restrictions_with_its_entry_as_basis() -> None:
    dishonest = entry("SERIOUS_DISHONEST")
    evaluation = run(entries=[dishonest])

    assert ids(evaluation.restrictions) == [
        "P_STRICT_LICENSING",
        "P_MARKET_ACCESS",
        "P_PUBLIC_RESOURCE",
    ]
    for applied in evaluation.restrictions:
        assert applied.bases == (MeasureBasis(entry=dishonest),)
        assert applied.measure.kind is MeasureKind.RESTRICTION
    assert evaluation.incentives == ()
    assert evaluation.withheld_incentives == ()
    assert evaluation.blacklisted_by == (dishonest,)
    assert evaluation.matter_id == "CO-JOINT-REVIEW"
    assert evaluation.complete


def test_a_judgment_debtor_gets_only_the_restrictions_targeting_judgment_debtors() -> None:
    debtor = entry("JUDGMENT_DEBTOR")
    evaluation = run(entries=[debtor])

    # P_MARKET_ACCESS targets serious dishonesty, not judgment debts.
    assert ids(evaluation.restrictions) == ["P_STRICT_LICENSING", "P_PUBLIC_RESOURCE"]


def test_a_red_listed_subject_gets_the_incentives() -> None:
    red = entry("A_TAXPAYER")
    evaluation = run(entries=[red])

    assert evaluation.restrictions == ()
    assert ids(evaluation.incentives) == ["I_FAST_TRACK"]
    assert evaluation.incentives[0].bases == (MeasureBasis(entry=red),)
    assert evaluation.withheld_incentives == ()
    assert evaluation.blacklisted_by == ()


def test_a_blacklisted_subject_gets_the_restrictions_and_its_incentives_are_withheld() -> None:
    black, red = entry("SERIOUS_DISHONEST"), entry("A_TAXPAYER")
    evaluation = run(entries=[red, black])

    assert ids(evaluation.restrictions) == [
        "P_STRICT_LICENSING",
        "P_MARKET_ACCESS",
        "P_PUBLIC_RESOURCE",
    ]
    assert evaluation.incentives == ()
    assert ids(evaluation.withheld_incentives) == ["I_FAST_TRACK"]
    assert evaluation.withheld_incentives[0].bases == (MeasureBasis(entry=red),)
    assert evaluation.blacklisted_by == (black,)


def test_a_top_grade_is_withheld_too_from_a_blacklisted_subject() -> None:
    evaluation = run(
        ["I_BIDDING_BONUS"], entries=[entry("BIDDING_BLACKLIST")], grades=[grade("tax:A")]
    )

    assert evaluation.incentives == ()
    assert ids(evaluation.withheld_incentives) == ["I_BIDDING_BONUS"]


def test_a_watch_list_entry_does_not_withhold_incentives() -> None:
    evaluation = run(entries=[entry("ABNORMAL_OPERATION"), entry("A_TAXPAYER")])

    assert ids(evaluation.incentives) == ["I_FAST_TRACK"]
    assert evaluation.withheld_incentives == ()


@pytest.mark.parametrize(
    "ended",
    [
        pytest.param({"exited_on": date(2026, 6, 1)}, id="exited"),
        pytest.param({"exited_on": TODAY}, id="exited-today"),
        pytest.param({"expires_on": date(2026, 11, 25)}, id="expired"),
        pytest.param({"entered_on": date(2026, 11, 27)}, id="not-yet-entered"),
    ],
)
def test_an_entry_that_is_not_current_has_no_effect(ended: dict[str, date]) -> None:
    entries = [entry(t).model_copy(update=ended) for t in ("SERIOUS_DISHONEST", "A_TAXPAYER")]
    evaluation = run(entries=entries)

    assert nothing_applies(evaluation)
    assert evaluation.blacklisted_by == ()


def test_an_ended_black_entry_no_longer_withholds_incentives() -> None:
    evaluation = run(
        entries=[entry("SERIOUS_DISHONEST", exited_on=date(2026, 1, 5)), entry("A_TAXPAYER")]
    )

    assert evaluation.restrictions == ()
    assert ids(evaluation.incentives) == ["I_FAST_TRACK"]


def test_an_entry_expiring_today_still_counts() -> None:
    evaluation = run(entries=[entry("SERIOUS_DISHONEST", expires_on=TODAY)])

    assert len(evaluation.restrictions) == 3


def test_a_top_grade_gets_the_incentive_with_the_grade_as_basis() -> None:
    top = grade("tax:A")
    evaluation = run(["I_BIDDING_BONUS", "P_PUBLIC_RESOURCE"], grades=[top])

    assert ids(evaluation.incentives) == ["I_BIDDING_BONUS"]
    assert evaluation.incentives[0].bases == (MeasureBasis(grade=top),)
    assert evaluation.restrictions == ()


@pytest.mark.parametrize("reverse", [False, True])
def test_a_top_grade_superseded_by_a_later_lower_grade_has_no_effect(reverse: bool) -> None:
    grades = [
        grade("tax:A", year=2024, assessed_on=date(2025, 4, 1)),
        grade("tax:C", year=2025, assessed_on=date(2026, 4, 1)),
    ]
    evaluation = run(["I_BIDDING_BONUS"], grades=grades[::-1] if reverse else grades)

    assert nothing_applies(evaluation)


def test_within_a_year_the_later_assessment_is_the_grade() -> None:
    grades = [
        grade("tax:A", year=2025, assessed_on=date(2026, 4, 1)),
        grade("tax:D", year=2025, assessed_on=date(2026, 7, 1)),
    ]
    evaluation = run(["I_BIDDING_BONUS", "P_KEY_SUPERVISION"], grades=grades)

    assert ids(evaluation.restrictions) == ["P_KEY_SUPERVISION"]
    assert evaluation.restrictions[0].bases == (MeasureBasis(grade=grades[1]),)
    assert evaluation.incentives == ()


def test_the_assessment_year_orders_before_the_assessment_date() -> None:
    # The 2025 grade was corrected on a later date for the earlier year: 2025 is still latest.
    grades = [
        grade("tax:A", year=2025, assessed_on=date(2026, 4, 1)),
        grade("tax:D", year=2024, assessed_on=date(2026, 5, 1)),
    ]
    evaluation = run(["I_BIDDING_BONUS"], grades=grades)

    assert ids(evaluation.incentives) == ["I_BIDDING_BONUS"]


def test_an_expired_grade_has_no_effect_and_an_older_one_does_not_revive() -> None:
    grades = [
        grade("tax:A", year=2024, assessed_on=date(2025, 4, 1)),
        grade("tax:A", year=2025, assessed_on=date(2026, 4, 1), valid_until=date(2026, 10, 31)),
    ]
    assert nothing_applies(run(["I_BIDDING_BONUS"], grades=grades))
    assert nothing_applies(run(["I_BIDDING_BONUS"], grades=grades[1:]))


def test_a_grade_valid_until_today_counts() -> None:
    evaluation = run(["I_BIDDING_BONUS"], grades=[grade("tax:A", valid_until=TODAY)])

    assert ids(evaluation.incentives) == ["I_BIDDING_BONUS"]


def test_a_grade_assessed_after_today_is_not_yet_in_force() -> None:
    grades = [
        grade("tax:A", year=2025, assessed_on=date(2026, 4, 1)),
        grade("tax:D", year=2026, assessed_on=date(2026, 12, 1)),
    ]
    evaluation = run(["I_BIDDING_BONUS", "P_KEY_SUPERVISION"], grades=grades)

    assert ids(evaluation.incentives) == ["I_BIDDING_BONUS"]
    assert evaluation.restrictions == ()


def test_grades_of_different_schemes_are_judged_separately() -> None:
    grades = [grade("tax:C"), grade("environment:GREEN"), grade("customs:ADVANCED_CERTIFIED")]
    evaluation = run(["I_FAST_TRACK"], grades=grades)

    assert [b.grade for b in evaluation.incentives[0].bases] == [grades[2], grades[1]]


def test_a_dishonest_legal_representative_triggers_only_the_officer_ban() -> None:
    representative = Person(name="张三", id_number="11010519491231002X")
    debt = entry("JUDGMENT_DEBTOR")
    matter = ["P_OFFICER_BAN", "P_MARKET_ACCESS", "P_PUBLIC_RESOURCE", "C_FLIGHT", "I_FAST_TRACK"]
    evaluation = run(
        matter, entries=[entry("A_TAXPAYER")], officer_entries=[(representative, debt)]
    )

    assert ids(evaluation.restrictions) == ["P_OFFICER_BAN"]
    assert evaluation.restrictions[0].bases == (MeasureBasis(entry=debt, officer=representative),)
    # The officer's entry is not the subject's: its incentives stand.
    assert ids(evaluation.incentives) == ["I_FAST_TRACK"]
    assert evaluation.blacklisted_by == ()


def test_an_officers_ended_entry_has_no_effect() -> None:
    representative = Person(name="张三")
    debt = entry("JUDGMENT_DEBTOR", exited_on=date(2026, 2, 1))

    assert nothing_applies(run(["P_OFFICER_BAN"], officer_entries=[(representative, debt)]))


def test_the_subjects_own_and_its_officers_entries_are_both_bases() -> None:
    own = entry("SERIOUS_DISHONEST")
    officer_debt = entry("JUDGMENT_DEBTOR")
    representative = Person(name="李四")
    evaluation = run(
        ["P_OFFICER_BAN"], entries=[own], officer_entries=[(representative, officer_debt)]
    )

    assert evaluation.restrictions[0].bases == (
        MeasureBasis(entry=own),
        MeasureBasis(entry=officer_debt, officer=representative),
    )


def test_a_measure_the_matter_does_not_use_is_not_reported() -> None:
    evaluation = run(["I_FAST_TRACK"], entries=[entry("SERIOUS_DISHONEST"), entry("A_TAXPAYER")])

    assert evaluation.restrictions == ()
    assert ids(evaluation.withheld_incentives) == ["I_FAST_TRACK"]
    assert nothing_applies(run([], entries=[entry("SERIOUS_DISHONEST")]))


def test_missing_departments_make_the_evaluation_incomplete() -> None:
    evaluation = run(entries=[entry("A_TAXPAYER")], missing_departments=["tax", "court", "tax"])

    assert not evaluation.complete
    assert evaluation.missing_departments == ("court", "tax")
    assert ids(evaluation.incentives) == ["I_FAST_TRACK"]
    assert run().complete


def test_measures_are_in_file_order_and_bases_in_a_stable_order() -> None:
    entries = [
        entry("SERIOUS_DISHONEST", entered_on=date(2025, 1, 1), document_number="B"),
        entry("BIDDING_BLACKLIST"),
        entry("SERIOUS_DISHONEST", entered_on=date(2025, 1, 1), document_number="A"),
        entry("JUDGMENT_DEBTOR"),
    ]
    reversed_matter = tuple(reversed(JOINT_REVIEW))
    first = run(reversed_matter, entries=entries)
    second = run(JOINT_REVIEW, entries=entries[::-1])

    assert first == second
    assert ids(first.restrictions) == ["P_STRICT_LICENSING", "P_MARKET_ACCESS", "P_PUBLIC_RESOURCE"]
    public_resource = first.restrictions[2]
    assert [
        (b.entry.department, b.entry.document_number) for b in public_resource.bases if b.entry
    ] == [
        ("bidding", None),
        ("commerce", "A"),
        ("commerce", "B"),
        ("court", None),
    ]


def test_a_matter_naming_an_undefined_measure_is_refused() -> None:
    with pytest.raises(ValueError, match="P_NOT_A_MEASURE"):
        run(["P_STRICT_LICENSING", "P_NOT_A_MEASURE"])


def test_a_basis_is_exactly_one_entry_or_one_grade() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MeasureBasis()
    with pytest.raises(ValueError, match="exactly one"):
        MeasureBasis(entry=entry("HONOUR"), grade=grade("tax:A"))
    with pytest.raises(ValueError, match="officer"):
        MeasureBasis(grade=grade("tax:A"), officer=Person(name="王五"))
