"""One section type per department: the shared record types plus what is the department's own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from schema.enums import BidRole, InspectionResult, PerformanceStatus, RegistrationStatus
from schema.records import (
    SOURCE_DESCRIPTION,
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
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


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
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


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
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(description="A supervision check of an online shop.")
class EcommerceCheck:
    platform: str = strawberry.field(description="E-commerce platform.")
    shop_name: str = strawberry.field(description="Name of the shop on the platform.")
    checked_on: date = strawberry.field(description="Date of the check.")
    result: InspectionResult = strawberry.field(description="PASS or FAIL.")
    findings: list[str] = strawberry.field(description="Problems found.")
    authority: Authority = strawberry.field(description="Checking authority.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(
    description="Commerce and market regulation: registration, abnormal operation, e-commerce."
)
class CommerceSection(Section):
    registration: Registration | None = strawberry.field(description="Market registration.")
    ecommerce_checks: list[EcommerceCheck] = strawberry.field(
        description="E-commerce supervision checks."
    )


@strawberry.type(description="Food and drug: grade A–D, licences, penalties, inspections.")
class FoodDrugSection(Section):
    inspections: list[Inspection] = strawberry.field(
        description="Food and drug sampling inspections and on-site checks."
    )


@strawberry.type(description="A bid in a public-resource trading project.")
class Bid:
    project_code: str = strawberry.field(description="Project code at the trading centre.")
    project_name: str = strawberry.field(description="Name of the project.")
    trading_centre: str = strawberry.field(description="Public-resource trading centre.")
    role: BidRole = strawberry.field(description="BIDDER, WINNER or CONSORTIUM_MEMBER.")
    bid_on: date = strawberry.field(description="Date of the bid.")
    amount: Decimal | None = strawberry.field(description="Amount bid, in yuan.")
    result: str = strawberry.field(description="Outcome of the bid, e.g. 中标 or 未中标.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(
    description="Public-resource trading: bidder records, bidding violations, the blacklist."
)
class BiddingSection(Section):
    bids: list[Bid] = strawberry.field(description="Bids in public-resource trading projects.")


@strawberry.type(description="A teacher's annual conduct record.")
class TeacherRecord:
    school: str = strawberry.field(description="School employing the teacher.")
    position: str = strawberry.field(description="Position held.")
    certificate_number: str = strawberry.field(description="Teacher qualification certificate.")
    year: int = strawberry.field(description="Year assessed.")
    conduct_result: str = strawberry.field(description="Conduct assessment, e.g. 合格.")
    violations: list[str] = strawberry.field(description="Violations of teachers' ethics found.")
    authority: Authority = strawberry.field(description="Assessing education authority.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(description="A research integrity violation decided by a funder or authority.")
class ResearchViolation:
    project_code: str = strawberry.field(description="Code of the research project.")
    project_name: str = strawberry.field(description="Name of the research project.")
    funder: str = strawberry.field(description="Funding body.")
    violation_type: str = strawberry.field(description="Kind of misconduct, e.g. 数据造假.")
    decided_on: date = strawberry.field(description="Date of the decision.")
    handling: str = strawberry.field(description="How it was handled.")
    ban_until: date | None = strawberry.field(
        description="Last day the subject may not apply for projects; null if no ban."
    )
    authority: Authority = strawberry.field(description="Deciding authority.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(
    description="Education and research: teacher credit records, research integrity violations."
)
class EducationSection(Section):
    teacher_records: list[TeacherRecord] = strawberry.field(
        description="Annual teacher conduct records (natural persons)."
    )
    research_violations: list[ResearchViolation] = strawberry.field(
        description="Research integrity violations."
    )


@strawberry.type(
    description=(
        "Tax: the taxpayer credit grade by year (A, B, M, C, D), major tax violations and their "
        "penalties."
    )
)
class TaxSection(Section):
    pass


@strawberry.type(description="Customs: the enterprise credit grade and AEO certification.")
class CustomsSection(Section):
    pass


@strawberry.type(description="A case in which the subject is a dishonest judgment debtor.")
class JudgmentDebtorCase:
    case_number: str = strawberry.field(
        description="Enforcement case number, e.g. （2024）湘0102执1234号."
    )
    court: Authority = strawberry.field(description="Enforcing court.")
    filed_on: date = strawberry.field(description="Date the case was filed.")
    published_on: date = strawberry.field(description="Date the debtor was published as dishonest.")
    obligation: str = strawberry.field(description="Obligation set by the legal document.")
    performance: PerformanceStatus = strawberry.field(
        description="PERFORMED, PARTLY_PERFORMED or NOT_PERFORMED."
    )
    dishonest_conduct: str = strawberry.field(description="The dishonest conduct found.")
    exited_on: date | None = strawberry.field(
        description="Date the debtor was removed from the list, if removed."
    )
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(description="Courts: dishonest judgment debtors [失信被执行人].")
class CourtSection(Section):
    judgment_debtor_cases: list[JudgmentDebtorCase] = strawberry.field(
        description="Enforcement cases in which the subject is a dishonest judgment debtor."
    )
