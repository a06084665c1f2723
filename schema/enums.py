"""GraphQL enums, registering the Python enums the records and resolvers already use.

Registering (rather than redefining) lets a validated record's enum members be served as they are;
the classes are re-exported so annotations stay real types.
"""

from __future__ import annotations

import strawberry

from connectors.errors import SourceState
from connectors.records import (
    BidRole,
    CreditReportProviderKind,
    InspectionResult,
    ListCategory,
    PenaltyKind,
    PerformanceStatus,
    PublicityState,
    RegistrationStatus,
    Severity,
)
from resolvers.identifiers import SubjectKind

strawberry.enum(Severity, description="Severity of an administrative penalty.")
strawberry.enum(
    PenaltyKind, description="Kind of administrative penalty (Administrative Penalty Law)."
)
strawberry.enum(
    PublicityState,
    description=(
        "Whether a record is publicly disclosed today: inside its publicity window, hidden after "
        "credit repair, or hidden after the window's end."
    ),
)
strawberry.enum(InspectionResult, description="Outcome of an inspection or check.")
strawberry.enum(
    ListCategory,
    description="BLACK lists restrict (joint punishment), WATCH lists warn, RED lists reward.",
)
strawberry.enum(RegistrationStatus, description="Registration status with market regulation.")
strawberry.enum(
    SubjectKind,
    description=(
        "Kind of social subject, from its identifier: legal person or other organisation (unified "
        "social credit code), individual business (code starting 92), natural person (resident "
        "identity number)."
    ),
)
strawberry.enum(BidRole, description="The subject's part in a public-resource bid.")
strawberry.enum(
    PerformanceStatus, description="How far a judgment debtor has performed the obligation."
)
strawberry.enum(
    CreditReportProviderKind,
    description="Who issued a credit report: the credit office or a credit service agency.",
)
strawberry.enum(SourceState, description="How one department's part of a profile was obtained.")

__all__ = [
    "BidRole",
    "CreditReportProviderKind",
    "InspectionResult",
    "ListCategory",
    "PenaltyKind",
    "PerformanceStatus",
    "PublicityState",
    "RegistrationStatus",
    "Severity",
    "SourceState",
    "SubjectKind",
]
