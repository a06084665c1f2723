"""Joint reward and punishment: the measures catalogue and a subject's evaluation in a matter."""

from __future__ import annotations

import strawberry

from resolvers.measures import MeasureKind
from schema.records import CreditGrade, ListEntry, Person

strawberry.enum(
    MeasureKind,
    description="RESTRICTION (joint punishment of dishonesty) or INCENTIVE (joint reward).",
)


@strawberry.type(
    description=(
        "A measure of joint reward or punishment [联合奖惩措施] with its stable id, from the "
        "published measures catalogue."
    )
)
class Measure:
    id: strawberry.ID = strawberry.field(description="Stable id, e.g. P_PUBLIC_RESOURCE.")
    kind: MeasureKind = strawberry.field(description="RESTRICTION or INCENTIVE.")
    group: str | None = strawberry.field(
        description="Sub-group, e.g. `consumption` for restrictions on high consumption."
    )
    name: str = strawberry.field(description="Name of the measure.")
    description: str = strawberry.field(description="What the measure does.")
    legal_basis: str = strawberry.field(description="Legal basis of the measure.")

    lists = strawberry.field(
        resolver=lambda root: sorted(root.lists),
        graphql_type=list[str],
        description="List types whose current entries trigger it.",
    )
    grades = strawberry.field(
        resolver=lambda root: sorted(root.grades),
        graphql_type=list[str],
        description="Grades that trigger it, as `scheme:VALUE` (e.g. tax:A).",
    )
    extends_to_officers: bool = strawberry.field(
        description=(
            "Whether it also applies to a company because of its legal representative or "
            "other persons in charge."
        )
    )


@strawberry.type(description="Why a measure applies: one list entry or one grade.")
class MeasureBasis:
    entry: ListEntry | None = strawberry.field(description="The current list entry, if any.")
    grade: CreditGrade | None = strawberry.field(description="The grade in force, if any.")
    officer: Person | None = strawberry.field(
        description=(
            "Whose entry it is, when it is not the subject's own but its legal representative's "
            "(masked without the pii scope)."
        )
    )


@strawberry.type(description="A measure that applies, with every entry or grade that triggers it.")
class AppliedMeasure:
    measure: Measure = strawberry.field(description="The measure.")
    bases: list[MeasureBasis] = strawberry.field(description="What triggers it.")


@strawberry.type(
    description=(
        "The restrictions and incentives that apply to one subject in one catalogued matter, "
        "limited to the measures that matter uses."
    )
)
class MeasureEvaluation:
    matter_id: strawberry.ID = strawberry.field(name="matter", description="The matter evaluated.")
    restrictions: list[AppliedMeasure] = strawberry.field(
        description="Restrictions that apply (joint punishment)."
    )
    incentives: list[AppliedMeasure] = strawberry.field(
        description="Incentives that apply (joint reward)."
    )
    withheld_incentives: list[AppliedMeasure] = strawberry.field(
        description=(
            "Incentives the subject would qualify for but does not get, because it is on a "
            "current black list (`blacklistedBy`)."
        )
    )
    blacklisted_by: list[ListEntry] = strawberry.field(
        description="The subject's current black-list entries."
    )
    complete: bool = strawberry.field(
        description=(
            "Every department the matter uses answered. When false, the absence of a measure "
            "proves nothing: see `missingDepartments` and `sources`."
        )
    )
    missing_departments: list[str] = strawberry.field(
        description="Departments that did not answer, so their records were not evaluated."
    )
