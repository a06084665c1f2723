"""Record types shared by every department's section (a penalty is a penalty wherever decided).

Each type reads the attributes of the validated registry record (connectors/records.py) directly.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from schema.enums import InspectionResult, ListCategory, PenaltyKind, PublicityState, Severity

SOURCE_DESCRIPTION = (
    "The lower-level gateway (a city's or county's) that supplied this record, by its key, e.g. "
    "`changsha`, or `changsha/furong` through two levels; null for this gateway's own registries."
)


@strawberry.type(description="A deciding or issuing authority.")
class Authority:
    name: str = strawberry.field(description="Name of the authority, e.g. 长沙市生态环境局.")
    code: str | None = strawberry.field(
        description="Its unified social credit code, where the registry gives it."
    )


@strawberry.type(description="A natural person named in a record.")
class Person:
    name: str = strawberry.field(description="Full name.")
    id_number: str | None = strawberry.field(description="Resident identity number, if known.")


@strawberry.type(
    description=(
        "The window in which a record is publicly disclosed (counted from the decision date), and "
        "its credit repair, if any."
    )
)
class Publicity:
    starts_on: date = strawberry.field(description="First day of public disclosure.")
    minimum_until: date = strawberry.field(
        description="End of the minimum window; credit repair may be applied for after it."
    )
    until: date = strawberry.field(description="Last day of public disclosure.")
    repaired_on: date | None = strawberry.field(
        description="Day the record was repaired, if it was."
    )
    state: PublicityState = strawberry.field(description="The record's disclosure state today.")


@strawberry.type(description='An administrative penalty decision ("double publicity" format).')
class Penalty:
    document_number: str = strawberry.field(
        description="Decision document number (处罚决定书文号)."
    )
    violation_type: str = strawberry.field(description="Type of violation.")
    facts: str = strawberry.field(description="Facts of the violation.")
    legal_basis: str = strawberry.field(description="Legal basis of the penalty.")
    kinds: list[PenaltyKind] = strawberry.field(description="Kinds of penalty imposed.")
    content: str = strawberry.field(description="Content of the penalty.")
    fine_amount: Decimal | None = strawberry.field(description="Fine, in yuan.")
    confiscated_amount: Decimal | None = strawberry.field(
        description="Confiscated illegal gains or property, in yuan."
    )
    decision_date: date = strawberry.field(description="Date of the decision.")
    authority: Authority = strawberry.field(description="Deciding authority.")
    source_unit: str = strawberry.field(description="Unit that reported the record.")
    severity: Severity = strawberry.field(description="GENERAL or SERIOUS.")
    publicity: Publicity = strawberry.field(description="Publicity window and repair.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(description='An administrative licence ("double publicity" format).')
class Licence:
    document_number: str = strawberry.field(description="Licence decision document number.")
    licence_kind: str = strawberry.field(description="Kind of licence, e.g. 排污许可证.")
    certificate_name: str = strawberry.field(description="Name of the certificate.")
    certificate_number: str = strawberry.field(description="Number of the certificate.")
    content: str = strawberry.field(description="What is licensed.")
    decision_date: date = strawberry.field(description="Date of the decision.")
    valid_from: date = strawberry.field(description="First day of validity.")
    valid_to: date | None = strawberry.field(
        description="Last day of validity; null if open-ended."
    )
    authority: Authority = strawberry.field(description="Licensing authority.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(description="A supervisory sampling inspection of a product or premises.")
class Inspection:
    report_number: str = strawberry.field(description="Inspection report number.")
    inspection_kind: str = strawberry.field(description="Kind, e.g. 国家监督抽查.")
    item: str = strawberry.field(description="Product or premises inspected.")
    batch: str | None = strawberry.field(description="Production batch, for products.")
    inspected_on: date = strawberry.field(description="Date of the inspection.")
    result: InspectionResult = strawberry.field(description="PASS or FAIL.")
    failed_items: list[str] = strawberry.field(description="Items that failed, if any.")
    authority: Authority = strawberry.field(description="Inspecting authority.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(description="An entry of the subject on a black, watch or red list.")
class ListEntry:
    department: str = strawberry.field(description="Department that keeps the list.")
    list_type: str = strawberry.field(
        description="Stable key of the list, e.g. SERIOUS_DISHONEST, ABNORMAL_OPERATION, HONOUR."
    )
    list_name: str = strawberry.field(description="Name of the list, e.g. 严重失信主体名单.")
    category: ListCategory = strawberry.field(description="BLACK, WATCH or RED.")
    entered_on: date = strawberry.field(description="Date the subject was put on the list.")
    exited_on: date | None = strawberry.field(description="Date it was taken off, if it was.")
    expires_on: date | None = strawberry.field(description="Date the entry lapses, if set.")
    current: bool = strawberry.field(description="Entered, not exited and not expired today.")
    reason: str = strawberry.field(description="Why the subject was listed.")
    basis: str = strawberry.field(description="Legal basis of the listing.")
    document_number: str | None = strawberry.field(description="Listing decision number.")
    authority: Authority = strawberry.field(description="Authority that listed the subject.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)


@strawberry.type(
    description="A credit grade under one department's grading scheme (schemes are data)."
)
class CreditGrade:
    department: str = strawberry.field(description="Department that graded the subject.")
    scheme: str = strawberry.field(
        description="Grading scheme key: environment, food_drug, tax, customs, ..."
    )
    value: str = strawberry.field(description="Grade within the scheme, e.g. GREEN or A.")
    label: str | None = strawberry.field(description="Label of the grade, e.g. 诚信.")
    score: float | None = strawberry.field(description="Score behind the grade, if any.")
    year: int | None = strawberry.field(description="Year assessed, for annual schemes.")
    assessed_on: date = strawberry.field(description="Date of the assessment.")
    valid_until: date | None = strawberry.field(description="Last day the grade applies.")
    authority: Authority = strawberry.field(description="Grading authority.")
    source: str | None = strawberry.field(description=SOURCE_DESCRIPTION)
