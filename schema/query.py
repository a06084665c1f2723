"""The root `Query` type."""

from __future__ import annotations

import strawberry

from resolvers import joint_measures as measure_resolvers
from resolvers import matters as matter_resolvers
from resolvers import subject as subject_resolvers
from resolvers import usage as usage_resolvers
from schema.measures import Measure
from schema.subject import Matter, Subject, UsageRow

_MATTER = (
    "The catalogued administrative matter this lookup serves (its id in the published catalogue)."
)


@strawberry.type(description="Credit profiles of social subjects.")
class Query:
    subject = strawberry.field(
        resolver=subject_resolvers.resolve_subject,
        graphql_type=Subject | None,
        description=(
            "The credit profile of one subject, by unified social credit code or resident ID "
            "number. Spaces, hyphens, full-width characters and lower case are normalised; an "
            "invalid id is an INVALID_SUBJECT_ID error saying what is wrong."
        ),
    )
    matters = strawberry.field(
        resolver=matter_resolvers.resolve_matters,
        graphql_type=list[Matter],
        description="The published catalogue of administrative matters, or one department's.",
    )
    measures = strawberry.field(
        resolver=measure_resolvers.resolve_measures,
        graphql_type=list[Measure],
        description="The published catalogue of joint reward and punishment measures.",
    )
    usage = strawberry.field(
        resolver=usage_resolvers.resolve_usage,
        graphql_type=list[UsageRow],
        description=(
            "How credit records were used in a period [from, to), from the audit log: lookups "
            "per department, matter and outcome. For auditors and the credit office."
        ),
    )
    subjects = strawberry.field(
        resolver=subject_resolvers.resolve_subjects,
        graphql_type=list[Subject | None],
        description=(
            "Profiles of several subjects, in the order given; each department is asked once for "
            "all of them. An invalid id gives null at its index with its error."
        ),
    )
