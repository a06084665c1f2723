"""One section type per department: the shared record types plus what is the department's own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from schema.enums import InspectionResult, RegistrationStatus
from schema.records import (
    Authority,
    CreditGrade,
    Inspection,
    Licence,
    ListEntry,
    Penalty,
    Person,
)


@strawberry.type(description="Fields every department section has.")
class Section:
    name: str = strawberry.field(description="The subject's name as this department records it.")
    updated_at: datetime = strawberry.field(
        description="When the registry last changed the record."
    )
    grades: list[CreditGrade] = strawberry.field(
        description="Credit grades given by the department."
    )
    penalties: list[Penalty] = strawberry.field(description="Administrative penalties.")
    licences: list[Licence] = strawberry.field(description="Administrative licences.")
    list_entries: list[ListEntry] = strawberry.field(
        description="Entries on the department's black, watch and red lists."
    )


@strawberry.type(description="Annual credit review of an environmental impact assessment agency.")
class EiaReview:
    year: int = strawberry.field(description="Year reviewed.")
    score: float = strawberry.field(description="Score out of 100.")
    result: str = strawberry.field(description="Outcome, e.g. 守信 or 失信.")
    reviewed_on: date = strawberry.field(description="Date of the review.")
    findings: list[str] = strawberry.field(description="Problems found.")
    authority: Authority = strawberry.field(description="Reviewing authority.")


@strawberry.type(description="Environment protection: grade, penalties, discharge permits, EIA.")
class EnvironmentSection(Section):
    inspections: list[Inspection] = strawberry.field(description="Environmental inspections.")
    eia_reviews: list[EiaReview] = strawberry.field(
        description="Credit reviews, when the subject is an EIA agency."
    )


@strawberry.type(description="Product quality: inspections, penalties, production licences.")
class QualitySection(Section):
    inspections: list[Inspection] = strawberry.field(description="Product sampling inspections.")


@strawberry.type(description="A ban from practising in an industry, for serious dishonesty.")
class IndustryBan:
    person: Person = strawberry.field(description="The banned person.")
    industry: str = strawberry.field(description="Industry the ban applies to.")
    starts_on: date = strawberry.field(description="First day of the ban.")
    ends_on: date | None = strawberry.field(description="Last day of the ban; null for life.")
    reason: str = strawberry.field(description="Why the person was banned.")
    basis: str = strawberry.field(description="Legal basis of the ban.")
    authority: Authority = strawberry.field(description="Authority that imposed the ban.")


@strawberry.type(description="Health: medical and hygiene licences, penalties, industry bans.")
class HealthSection(Section):
    inspections: list[Inspection] = strawberry.field(description="Health supervision checks.")
    industry_bans: list[IndustryBan] = strawberry.field(description="Bans from the industry.")


@strawberry.type(description="Registration with market regulation.")
class Registration:
    name: str = strawberry.field(description="Registered name.")
    enterprise_type: str = strawberry.field(description="Type of enterprise, e.g. 有限责任公司.")
    legal_representative: Person = strawberry.field(
        description="Legal representative (or operator of an individual business)."
    )
    registered_capital: Decimal | None = strawberry.field(description="Registered capital, yuan.")
    established_on: date = strawberry.field(description="Date of establishment.")
    address: str = strawberry.field(description="Registered address.")
    business_scope: str = strawberry.field(description="Business scope.")
    status: RegistrationStatus = strawberry.field(description="Registration status.")
    authority: Authority = strawberry.field(description="Registration authority.")


@strawberry.type(description="A supervision check of an online shop.")
class EcommerceCheck:
    platform: str = strawberry.field(description="E-commerce platform.")
    shop_name: str = strawberry.field(description="Name of the shop on the platform.")
    checked_on: date = strawberry.field(description="Date of the check.")
    result: InspectionResult = strawberry.field(description="PASS or FAIL.")
    findings: list[str] = strawberry.field(description="Problems found.")
    authority: Authority = strawberry.field(description="Checking authority.")


@strawberry.type(
    description="Commerce and market regulation: registration, abnormal operation, e-commerce."
)
class CommerceSection(Section):
    registration: Registration | None = strawberry.field(description="Market registration.")
    ecommerce_checks: list[EcommerceCheck] = strawberry.field(
        description="E-commerce supervision checks."
    )
