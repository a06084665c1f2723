"""`Subject.jointMeasures` and `Query.measures`: joint reward and punishment for a matter.

The subject resolver has already loaded every department the evaluated matter uses (and, when a
measure extends to persons in charge, the legal representative's records), and the lists and
grades of the lower-level gateways consulted, so this is a plain function over loaded data: the
rules themselves are in `resolvers.measures`.
"""

from __future__ import annotations

import strawberry

from connectors.records import Grade, ListEntry, Person
from connectors.upstream import FederatedRecord
from resolvers.context import RequestContext
from resolvers.errors import CodedError, ErrorCode
from resolvers.masking import mask_person
from resolvers.measures import AppliedMeasure, Measure, MeasureBasis, MeasureEvaluation, evaluate
from resolvers.subject import SubjectRef


def resolve_measures(info: strawberry.Info[RequestContext, None]) -> list[Measure]:
    return list(info.context.measures)


def resolve_joint_measures(
    root: SubjectRef,
    info: strawberry.Info[RequestContext, None],
    matter: strawberry.ID | None = None,
) -> MeasureEvaluation:
    context = info.context
    matter_id = str(matter) if matter is not None else root.matter
    if matter_id is None:
        raise CodedError(
            ErrorCode.PURPOSE_REQUIRED,
            "Joint measures are decided per administrative matter: name one "
            "(`jointMeasures(matter:)` or the lookup's `matter`).",
        )
    found = context.catalogue.purpose(context.principal, matter_id)
    if found is None:  # the public naming no matter; unreachable with a matter id
        raise CodedError(ErrorCode.PURPOSE_REQUIRED, "Name the matter to evaluate.")
    departments = [d for d in context.sources if d in found.sections]
    entries: list[ListEntry] = []
    grades: list[Grade] = []
    # A department the matter uses that this gateway does not serve cannot be judged clean.
    missing: list[str] = [
        f"{d} (not configured)" for d in found.sections if d not in context.sources
    ]
    for department in departments:
        outcome = root.outcomes.get(department)
        if outcome is None or not outcome.answered:
            missing.append(department)
        elif outcome.record is not None:
            entries.extend(outcome.record.list_entries)
            grades.extend(outcome.record.grades)
    for key in root.upstreams:
        outcome = root.outcomes[key]
        record = outcome.record
        if not isinstance(record, FederatedRecord):
            if not outcome.answered:
                missing.append(key)
            continue
        if record.failed("lists") or record.failed("grades"):
            missing.append(key)
        missing.extend(f"{key}:{d}" for d in found.sections if d in record.failed_sources)
        entries.extend(e for e in record.list_entries if e.department in found.sections)
        grades.extend(g for g in record.grades if g.department in found.sections)
    officer_entries: list[tuple[Person, ListEntry]] = []
    for officer in root.officers:
        for department, outcome in officer.outcomes.items():
            if department not in found.sections:
                continue
            if not outcome.answered:
                missing.append(f"{department} (legal representative)")
            elif outcome.record is not None:
                officer_entries.extend((officer.person, e) for e in outcome.record.list_entries)
    evaluation = evaluate(
        context.measures,
        matter_id=found.id,
        matter_measures=found.measures,
        entries=entries,
        grades=grades,
        officer_entries=officer_entries,
        today=root.today,
        missing_departments=missing,
    )
    return _masked(evaluation) if root.mask else evaluation


def _masked(evaluation: MeasureEvaluation) -> MeasureEvaluation:
    """An officer's id number is personal data: masked for principals without `pii` (their name
    is public registration data, as on the registration itself)."""

    def applied(measures: tuple[AppliedMeasure, ...]) -> tuple[AppliedMeasure, ...]:
        return tuple(
            AppliedMeasure(
                m.measure,
                tuple(
                    MeasureBasis(b.entry, b.grade, mask_person(b.officer, name=False))
                    if b.officer is not None
                    else b
                    for b in m.bases
                ),
            )
            for m in measures
        )

    return MeasureEvaluation(
        evaluation.matter_id,
        applied(evaluation.restrictions),
        applied(evaluation.incentives),
        applied(evaluation.withheld_incentives),
        evaluation.blacklisted_by,
        evaluation.missing_departments,
    )
