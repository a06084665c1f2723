"""Credit reports [信用报告] on a subject, from the credit office or credit service agencies."""

from __future__ import annotations

from datetime import date

import strawberry

from schema.enums import CreditReportProviderKind
from schema.records import SOURCE_DESCRIPTION


@strawberry.type(description="Who issued a credit report.")
class CreditReportProvider:
    kind: CreditReportProviderKind = strawberry.field(description="CREDIT_OFFICE or AGENCY.")
    name: str = strawberry.field(description="Name of the issuer.")
    code: str | None = strawberry.field(description="The agency's unified social credit code.")
    filing_number: str | None = strawberry.field(
        description="The agency's filing number [备案号]; null for the credit office."
    )


@strawberry.type(
    description=(
        "A credit report on the subject. An expired report is shown as expired, never as current."
    )
)
class CreditReport:
    report_number: str = strawberry.field(description="Report number.")
    provider: CreditReportProvider = strawberry.field(description="Who issued it.")
    issued_on: date = strawberry.field(description="Date of issue.")
    valid_until: date = strawberry.field(description="Last day the report is valid.")
    expired: bool = strawberry.field(description="Past `validUntil` today: not to be relied on.")
    rating: str = strawberry.field(description="Credit rating, e.g. AAA, A, BBB.")
    purpose: str | None = strawberry.field(description="What the report was issued for, if stated.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)
