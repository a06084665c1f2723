"""Joint reward and punishment [守信联合激励、失信联合惩戒]: which measures apply to a subject.

A measure (DOMAIN.md, "Measures of joint reward and punishment") is data: an id, whether it
restricts or rewards, and the list types and grades it targets. The catalogue of administrative
matters names the measures each matter may apply; `evaluate` takes what the departments hold about
one subject and says which of those measures apply, each with the list entries or grades that are
its basis, so an official sees not only *that* a restriction applies but *why*.

Everything here is pure and synchronous: no I/O, no GraphQL, and no clock (the caller passes
`today`, the day in China on which lists and grades are judged). The same inputs always give the
same answer in the same order, which is what makes an evaluation auditable and testable.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from connectors.records import Grade, ListCategory, ListEntry, Person


class MeasureKind(enum.Enum):
    """A restriction on dishonest subjects [惩戒] or an incentive for trustworthy ones [激励]."""

    RESTRICTION = "RESTRICTION"
    INCENTIVE = "INCENTIVE"


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure of the measures file, validated by `gateway.measures_file`.

    `lists` are list type ids (``SERIOUS_DISHONEST``); `grades` are ``scheme:VALUE`` references
    (``tax:A``). `extends_to_officers` says that an entry of the subject's legal representative,
    director, supervisor or senior manager on a targeted list also triggers the measure.
    `group` sub-divides a kind (``consumption`` for the courts' restrictions on high consumption).
    """

    id: str
    kind: MeasureKind
    name: str
    description: str
    legal_basis: str
    lists: frozenset[str]
    grades: frozenset[str]
    extends_to_officers: bool = False
    group: str | None = None


def grade_ref(grade: Grade) -> str:
    """The ``scheme:VALUE`` form in which measures name the grades they target."""
    return f"{grade.scheme}:{grade.value}"


@dataclass(frozen=True, slots=True)
class MeasureBasis:
    """Why a measure applies: one list entry or one grade, never both.

    `officer` is set only for an entry that is not the subject's own but one of its officers'
    (the legal representative who is a dishonest judgment debtor): the entry is that person's, and
    the person is named so the official knows whose record it is.
    """

    entry: ListEntry | None = None
    grade: Grade | None = None
    officer: Person | None = None

    def __post_init__(self) -> None:
        if (self.entry is None) == (self.grade is None):
            raise ValueError("a measure basis is exactly one list entry or one grade")
        if self.officer is not None and self.entry is None:
            raise ValueError("only a list entry can be an officer's")


@dataclass(frozen=True, slots=True)
class AppliedMeasure:
    """A measure that applies, with every current entry or grade that triggers it."""

    measure: Measure
    bases: tuple[MeasureBasis, ...]


@dataclass(frozen=True, slots=True)
class MeasureEvaluation:
    """The measures that apply to one subject in one matter.

    `withheld_incentives` are incentives whose targets matched but that the subject does not get
    because it has a current black-list entry (`blacklisted_by`): a subject on a black list is not
    rewarded, whatever its red lists or grades say. They are reported rather than dropped, so the
    official sees that the subject would otherwise qualify.

    `complete` is false when a department the matter uses did not answer (`missing_departments`):
    the absence of a restriction then proves nothing, and the official must be told so.
    """

    matter_id: str
    restrictions: tuple[AppliedMeasure, ...]
    incentives: tuple[AppliedMeasure, ...]
    withheld_incentives: tuple[AppliedMeasure, ...]
    blacklisted_by: tuple[ListEntry, ...]
    missing_departments: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing_departments


def evaluate(
    measures: Sequence[Measure],
    *,
    matter_id: str,
    matter_measures: Collection[str],
    entries: Iterable[ListEntry],
    grades: Iterable[Grade],
    officer_entries: Iterable[tuple[Person, ListEntry]] = (),
    today: date,
    missing_departments: Collection[str] = (),
) -> MeasureEvaluation:
    """The restrictions and incentives of `matter_measures` that apply to a subject on `today`.

    `measures` is the whole measures file, in its order; only the measures the matter names are
    considered, and they are reported in the file's order. `entries` and `grades` are the
    subject's own, from every department that answered; `officer_entries` are the list entries of
    its officers, each with the officer. A matter naming a measure the file lacks is a
    configuration error that the gateway refuses at start (`check_catalogue_measures`); here it
    raises `ValueError` rather than silently evaluate fewer measures than the matter prescribes.

    The rules, and why:

    - An entry counts only while current (`ListEntry.is_current_on`): an exited or expired entry
      has no effects any more, though the record still shows it.
    - A grade counts only if it is the subject's latest of its scheme and not past `valid_until`:
      an A from years ago says nothing once a later assessment gave a C, and an expired grade
      says nothing at all. Grades assessed after `today` are not yet in force.
    - An officer's entry counts only for measures that extend to officers (`P_OFFICER_BAN`): the
      company is not a judgment debtor because its legal representative is.
    - A subject with a current black-list entry of its own gets no incentives; the matched
      incentives move to `withheld_incentives`.
    """
    wanted = frozenset(matter_measures)
    unknown = wanted - {m.id for m in measures}
    if unknown:
        raise ValueError(f"matter {matter_id} names undefined measures {sorted(unknown)}")

    own = sorted((e for e in entries if e.is_current_on(today)), key=_entry_order)
    officers = sorted(
        ((p, e) for p, e in officer_entries if e.is_current_on(today)),
        key=lambda pair: (_person_order(pair[0]), _entry_order(pair[1])),
    )
    in_force = sorted(_grades_in_force(grades, today), key=_grade_order)
    blacklisted_by = tuple(e for e in own if e.category is ListCategory.BLACK)

    restrictions: list[AppliedMeasure] = []
    incentives: list[AppliedMeasure] = []
    withheld: list[AppliedMeasure] = []
    for measure in measures:
        if measure.id not in wanted:
            continue
        bases = [
            *(MeasureBasis(entry=e) for e in own if e.list_type in measure.lists),
            *(MeasureBasis(grade=g) for g in in_force if grade_ref(g) in measure.grades),
        ]
        if measure.extends_to_officers:
            bases.extend(
                MeasureBasis(entry=e, officer=p)
                for p, e in officers
                if e.list_type in measure.lists
            )
        if not bases:
            continue
        applied = AppliedMeasure(measure, tuple(bases))
        if measure.kind is MeasureKind.RESTRICTION:
            restrictions.append(applied)
        elif blacklisted_by:
            withheld.append(applied)
        else:
            incentives.append(applied)

    return MeasureEvaluation(
        matter_id=matter_id,
        restrictions=tuple(restrictions),
        incentives=tuple(incentives),
        withheld_incentives=tuple(withheld),
        blacklisted_by=blacklisted_by,
        missing_departments=tuple(sorted(set(missing_departments))),
    )


def _grades_in_force(grades: Iterable[Grade], today: date) -> list[Grade]:
    """Per scheme, the latest grade assessed by `today` (by year, then assessment date), if valid.

    A grade without a `year` counts as of the year it was assessed. Two grades of one scheme tied
    on both keys are a department contradicting itself; both are kept, so the evaluation shows
    each with its basis instead of silently choosing one.
    """
    latest: dict[str, list[Grade]] = {}
    for grade in grades:
        if grade.assessed_on > today:
            continue
        held = latest.get(grade.scheme)
        if held is None or _recency(grade) > _recency(held[0]):
            latest[grade.scheme] = [grade]
        elif _recency(grade) == _recency(held[0]):
            held.append(grade)
    return [
        grade
        for held in latest.values()
        for grade in held
        if grade.valid_until is None or grade.valid_until >= today
    ]


def _recency(grade: Grade) -> tuple[int, date]:
    return (grade.year if grade.year is not None else grade.assessed_on.year, grade.assessed_on)


def _entry_order(entry: ListEntry) -> tuple[str, str, date, str]:
    return (entry.department, entry.list_type, entry.entered_on, entry.document_number or "")


def _grade_order(grade: Grade) -> tuple[str, str, str]:
    return (grade.scheme, grade.department, grade.value)


def _person_order(person: Person) -> tuple[str, str]:
    return (person.name, person.id_number or "")
