"""`Subject`, the unified credit profile, and its `sources` rows."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import joint_measures as measure_resolvers
from resolvers import sections as section_resolvers
from resolvers import sources as source_resolvers
from resolvers import subject as subject_resolvers
from resolvers.loading import when_loaded
from schema.enums import SourceState, SubjectKind
from schema.measures import MeasureEvaluation
from schema.records import CreditGrade, ListEntry
from schema.reports import CreditReport
from schema.sections import (
    BiddingSection,
    CommerceSection,
    CourtSection,
    CustomsSection,
    EducationSection,
    EnvironmentSection,
    FoodDrugSection,
    HealthSection,
    QualitySection,
    TaxSection,
)


@strawberry.type(description="How one department's part of the profile was obtained.")
class SourceStatus:
    department: str = strawberry.field(
        description="Department key, e.g. environment; or a lower-level gateway's, e.g. changsha."
    )
    status: SourceState = strawberry.field(description="OK, NOT_FOUND, STALE, or why it failed.")
    from_cache: bool = strawberry.field(description="Served from the gateway's cache.")
    fetched_at: datetime | None = strawberry.field(
        description="When the data was fetched from the registry."
    )
    age_seconds: float | None = strawberry.field(description="Age of the data, in seconds.")
    latency_ms: float | None = strawberry.field(
        description="Duration of the registry call, when this request made or joined one."
    )
    message: str | None = strawberry.field(
        description=(
            "Why the source failed, if it did; for a lower-level gateway that answered in part, "
            "what it could not give."
        )
    )
    region: str | None = strawberry.field(
        description=(
            "For a lower-level gateway (a city's or county's, `department` is its key): the "
            "6-digit division it serves. Null for departments."
        )
    )


@strawberry.type(
    description=(
        "The unified credit profile of one social subject, assembled from department registries. "
        "Only the parts a query selects are fetched; a department that fails leaves its section "
        "null with an error at that path, and its `sources` row says why."
    )
)
class Subject:
    id: strawberry.ID = strawberry.field(
        description="Normalised identifier: unified social credit code or resident ID number."
    )
    kind: SubjectKind = strawberry.field(description="Kind of subject, derived from the id.")
    name = strawberry.field(
        resolver=when_loaded(subject_resolvers.resolve_name),
        description="Name: as registered with market regulation for organisations.",
    )
    environment = strawberry.field(
        resolver=section_resolvers.section_resolver("environment"),
        graphql_type=EnvironmentSection | None,
        description="Environment protection records; null if none or if the registry failed.",
    )
    quality = strawberry.field(
        resolver=section_resolvers.section_resolver("quality"),
        graphql_type=QualitySection | None,
        description="Product quality records; null if none or if the registry failed.",
    )
    health = strawberry.field(
        resolver=section_resolvers.section_resolver("health"),
        graphql_type=HealthSection | None,
        description="Health records; null if none or if the registry failed.",
    )
    commerce = strawberry.field(
        resolver=section_resolvers.section_resolver("commerce"),
        graphql_type=CommerceSection | None,
        description="Commerce and market regulation records; null if none or if it failed.",
    )
    food_drug = strawberry.field(
        resolver=section_resolvers.section_resolver("food_drug"),
        graphql_type=FoodDrugSection | None,
        description="Food and drug records; null if none or if the registry failed.",
    )
    bidding = strawberry.field(
        resolver=section_resolvers.section_resolver("bidding"),
        graphql_type=BiddingSection | None,
        description="Public-resource trading records; null if none or if the registry failed.",
    )
    education = strawberry.field(
        resolver=section_resolvers.section_resolver("education"),
        graphql_type=EducationSection | None,
        description="Education and research records; null if none or if the registry failed.",
    )
    tax = strawberry.field(
        resolver=section_resolvers.section_resolver("tax"),
        graphql_type=TaxSection | None,
        description="Tax credit records; null if none or if the registry failed.",
    )
    customs = strawberry.field(
        resolver=section_resolvers.section_resolver("customs"),
        graphql_type=CustomsSection | None,
        description="Customs credit records; null if none or if the registry failed.",
    )
    court = strawberry.field(
        resolver=section_resolvers.section_resolver("court"),
        graphql_type=CourtSection | None,
        description="Dishonest judgment debtor records; null if none or if the registry failed.",
    )
    lists = strawberry.field(
        resolver=when_loaded(section_resolvers.resolve_lists),
        graphql_type=list[ListEntry],
        description=(
            "Entries on black, watch and red lists of every department consulted, black first. "
            "A failed department adds none: check `sources`."
        ),
    )
    grades = strawberry.field(
        resolver=when_loaded(section_resolvers.resolve_grades),
        graphql_type=list[CreditGrade],
        description="Credit grades of every department consulted.",
    )
    reports = strawberry.field(
        resolver=when_loaded(section_resolvers.resolve_reports),
        graphql_type=list[CreditReport],
        description=(
            "Credit reports from the credit office and credit service agencies, valid ones first, "
            "newest first; expired ones are marked so. Empty if the agencies' registry failed "
            "(check `sources`) or the lookup's matter does not use credit reports."
        ),
    )
    joint_measures = strawberry.field(
        resolver=when_loaded(measure_resolvers.resolve_joint_measures),
        graphql_type=MeasureEvaluation | None,
        description=(
            "The joint reward and punishment measures that apply to the subject in a matter "
            "(default: the lookup's), each with its basis, limited to the measures the matter "
            "uses. Officials may evaluate matters their department may use."
        ),
    )
    sources = strawberry.field(
        resolver=when_loaded(source_resolvers.resolve_sources),
        graphql_type=list[SourceStatus],
        description="One row per department consulted for this subject by this query.",
    )


@strawberry.type(
    description=(
        "An administrative matter in which a department uses credit records, from the published "
        "catalogue [计划目录]. Officials' lookups name one (`subject(id:, matter:)`)."
    )
)
class Matter:
    id: strawberry.ID = strawberry.field(description="Stable id, e.g. ENV-DISCHARGE-PERMIT.")
    name: str = strawberry.field(description="Name of the matter.")
    department: str = strawberry.field(description="Department that filed it.")
    legal_basis: str = strawberry.field(description="Legal basis for using credit records in it.")
    operating_method: str = strawberry.field(description="How credit records are used in it.")
    sections: list[str] = strawberry.field(description="Department sections the matter uses.")
    measures: list[str] = strawberry.field(
        description="Joint reward and punishment measures the matter may apply (ids)."
    )
    shared: bool = strawberry.field(description="Usable by every department, not only its own.")


@strawberry.type(
    description="Lookups by officials of one department, in one matter, with one outcome."
)
class UsageRow:
    department: str | None = strawberry.field(description="The officials' department.")
    matter: str | None = strawberry.field(description="The catalogued matter named.")
    outcome: str = strawberry.field(description="OK, PARTIAL, DENIED, INVALID or ERROR.")
    lookups: int = strawberry.field(description="Number of subjects looked up.")
