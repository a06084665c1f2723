"""The registry API's record payloads: what a department registry returns for one subject.

These pydantic models are the contract between a department's registry and the gateway. The
connector validates every upstream payload against them, so a registry that sends the wrong shape is
reported as a bad response instead of crashing a resolver; the reference registries build their
records from the same models, so they cannot drift from the contract.

JSON uses camelCase (``updatedAt``); Python uses snake_case, which is also what the GraphQL layer
reads, so a validated record is served to clients without being copied into other objects. Unknown
JSON fields are ignored: a department may add fields before the gateway knows them.

Record types are shared by all departments (a penalty is a penalty wherever it was decided); a
department's record adds only what is its own (commerce's registration, environment's EIA reviews).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic.alias_generators import to_camel

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
"""UTC+8 all year (China has no daylight saving): the day in which windows and lists are judged."""


def today_in_china() -> date:
    """The current date where the records apply, whatever the server's own time zone."""
    return datetime.now(CHINA_STANDARD_TIME).date()


class RecordModel(BaseModel):
    """Base of every payload model: camelCase on the wire, immutable once validated."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
        str_strip_whitespace=True,
    )


SOURCE_CONTEXT = "source"
"""Validation-context key naming the lower-level gateway whose answer is being validated."""


class Sourced(RecordModel):
    """A record part that a lower-level gateway (a city or county credit-gateway) may have supplied.

    `source` is `None` for what this gateway's own registries hold. The upstream connector validates
    a lower-level gateway's answer with its key in the validation context (``source``), which
    stamps it here, prefixed to what that gateway said (``changsha/furong`` for a county's record
    relayed by a city). Without that context a claimed `source` is dropped, so a registry cannot
    pass its records off as another gateway's. Never serialised: it is not part of the registry API.
    """

    source: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _stamp_source(cls, data: object, info: ValidationInfo) -> object:
        if not isinstance(data, dict):
            return data
        context = info.context
        via = context.get(SOURCE_CONTEXT) if isinstance(context, dict) else None
        claimed = data.get("source")
        if via is None:
            if claimed is None:
                return data
            return {key: value for key, value in data.items() if key != "source"}
        stamped = f"{via}/{claimed}" if isinstance(claimed, str) and claimed else via
        return {**data, "source": stamped}


class DepartmentScoped(Sourced):
    """A record part that names the department that holds it.

    The connector stamps `department` from its own configuration while validating (the validation
    context's ``department``), so a registry cannot claim to speak for another department.
    """

    department: str = ""

    @model_validator(mode="before")
    @classmethod
    def _stamp_department(cls, data: object, info: ValidationInfo) -> object:
        context = info.context
        if isinstance(context, dict) and isinstance(data, dict) and "department" in context:
            return {**data, "department": context["department"]}
        return data


class Severity(enum.Enum):
    """Severity of an administrative penalty; serious ones have a longer publicity window."""

    GENERAL = "GENERAL"
    SERIOUS = "SERIOUS"


class PenaltyKind(enum.Enum):
    """Kinds of administrative penalty of the Administrative Penalty Law."""

    WARNING = "WARNING"
    FINE = "FINE"
    CONFISCATION = "CONFISCATION"
    SUSPENSION = "SUSPENSION"
    LICENCE_REVOCATION = "LICENCE_REVOCATION"
    QUALIFICATION_DOWNGRADE = "QUALIFICATION_DOWNGRADE"
    PRODUCTION_RESTRICTION = "PRODUCTION_RESTRICTION"
    DETENTION = "DETENTION"
    OTHER = "OTHER"


class PublicityState(enum.Enum):
    """Whether a record is publicly disclosed today (DOMAIN.md, publicity window and repair)."""

    PUBLIC = "PUBLIC"
    REPAIRED_HIDDEN = "REPAIRED_HIDDEN"
    EXPIRED_HIDDEN = "EXPIRED_HIDDEN"


class InspectionResult(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"


class ListCategory(enum.Enum):
    """Black lists restrict, watch lists warn, red lists reward."""

    BLACK = "BLACK"
    WATCH = "WATCH"
    RED = "RED"


class RegistrationStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"


class Authority(RecordModel):
    """A deciding or issuing authority: its name and, where known, its unified social code."""

    name: str
    code: str | None = None


class Person(RecordModel):
    """A natural person named in a record (a legal representative, a banned practitioner)."""

    name: str
    id_number: str | None = None


class Publicity(RecordModel):
    """The window in which a record is publicly disclosed, and its repair if any.

    The registry sets the dates by its department's rules; the state is derived from them and the
    day it is read, so a cached record never shows a state that has since changed.
    """

    starts_on: date
    minimum_until: date
    until: date
    repaired_on: date | None = None

    def state_on(self, today: date) -> PublicityState:
        if self.repaired_on is not None and self.repaired_on <= today:
            return PublicityState.REPAIRED_HIDDEN
        if today > self.until:
            return PublicityState.EXPIRED_HIDDEN
        return PublicityState.PUBLIC

    @property
    def state(self) -> PublicityState:
        return self.state_on(today_in_china())


class Penalty(Sourced):
    """An administrative penalty decision in the "double publicity" format."""

    document_number: str
    violation_type: str
    facts: str
    legal_basis: str
    kinds: list[PenaltyKind] = Field(min_length=1)
    content: str
    fine_amount: Decimal | None = Field(default=None, ge=0)
    confiscated_amount: Decimal | None = Field(default=None, ge=0)
    decision_date: date
    authority: Authority
    source_unit: str
    severity: Severity
    publicity: Publicity


class Licence(Sourced):
    """An administrative licence (permit, certificate) in the "double publicity" format."""

    document_number: str
    licence_kind: str
    certificate_name: str
    certificate_number: str
    content: str
    decision_date: date
    valid_from: date
    valid_to: date | None = None
    authority: Authority


class Inspection(Sourced):
    """A supervisory sampling inspection of a product or premises."""

    report_number: str
    inspection_kind: str
    item: str
    batch: str | None = None
    inspected_on: date
    result: InspectionResult
    failed_items: list[str] = Field(default_factory=list)
    authority: Authority


class ListEntry(DepartmentScoped):
    """An entry of the subject on a black, watch or red list kept by a department."""

    list_type: str
    list_name: str
    category: ListCategory
    entered_on: date
    exited_on: date | None = None
    expires_on: date | None = None
    reason: str
    basis: str
    document_number: str | None = None
    authority: Authority

    def is_current_on(self, today: date) -> bool:
        """Entered, not exited and not expired on `today`: only current entries have effects."""
        return (
            self.entered_on <= today
            and (self.exited_on is None or self.exited_on > today)
            and (self.expires_on is None or self.expires_on >= today)
        )

    @property
    def current(self) -> bool:
        return self.is_current_on(today_in_china())


class Grade(DepartmentScoped):
    """A credit grade under one department's grading scheme (the schemes are data, not code)."""

    scheme: str
    value: str
    label: str | None = None
    score: float | None = None
    year: int | None = None
    assessed_on: date
    valid_until: date | None = None
    authority: Authority


class EiaReview(Sourced):
    """Environment: the annual credit review of an environmental impact assessment agency."""

    year: int
    score: float = Field(ge=0, le=100)
    result: str
    reviewed_on: date
    findings: list[str] = Field(default_factory=list)
    authority: Authority


class Registration(Sourced):
    """Commerce: the subject's registration with market regulation."""

    name: str
    enterprise_type: str
    legal_representative: Person
    registered_capital: Decimal | None = Field(default=None, ge=0)
    established_on: date
    address: str
    business_scope: str
    status: RegistrationStatus
    authority: Authority


class EcommerceCheck(Sourced):
    """Commerce: a supervision check of an online shop."""

    platform: str
    shop_name: str
    checked_on: date
    result: InspectionResult
    findings: list[str] = Field(default_factory=list)
    authority: Authority


class IndustryBan(Sourced):
    """Health: a ban from practising in the industry, for serious dishonesty."""

    person: Person
    industry: str
    starts_on: date
    ends_on: date | None = None
    reason: str
    basis: str
    authority: Authority


class SubjectRecord(RecordModel):
    """What one department holds about one subject. Department records add their own fields."""

    department: ClassVar[str] = ""

    subject_id: str = Field(min_length=1, max_length=64)
    name: str
    updated_at: AwareDatetime
    grades: list[Grade] = Field(default_factory=list)
    penalties: list[Penalty] = Field(default_factory=list)
    licences: list[Licence] = Field(default_factory=list)
    inspections: list[Inspection] = Field(default_factory=list)
    list_entries: list[ListEntry] = Field(default_factory=list)


class EnvironmentRecord(SubjectRecord):
    department: ClassVar[str] = "environment"

    eia_reviews: list[EiaReview] = Field(default_factory=list)


class QualityRecord(SubjectRecord):
    department: ClassVar[str] = "quality"


class HealthRecord(SubjectRecord):
    department: ClassVar[str] = "health"

    industry_bans: list[IndustryBan] = Field(default_factory=list)


class CommerceRecord(SubjectRecord):
    department: ClassVar[str] = "commerce"

    registration: Registration | None = None
    ecommerce_checks: list[EcommerceCheck] = Field(default_factory=list)


class BidRole(enum.Enum):
    """The part a subject played in a public-resource trading project."""

    BIDDER = "BIDDER"
    WINNER = "WINNER"
    CONSORTIUM_MEMBER = "CONSORTIUM_MEMBER"


class Bid(Sourced):
    """Bidding: the subject's part in one project traded on a public-resource trading platform."""

    project_code: str
    project_name: str
    trading_centre: str
    role: BidRole
    bid_on: date
    amount: Decimal | None = Field(default=None, ge=0)
    """The bid (or, for a winner, the contract) amount in yuan, where published."""
    result: str
    """What came of the bid in words: 中标, 未中标, 废标 ..."""


class TeacherRecord(Sourced):
    """Education: one year's conduct assessment of a teacher [师德师风考核], a natural person."""

    school: str
    position: str
    certificate_number: str
    """The teacher qualification certificate [教师资格证书] number."""
    year: int
    conduct_result: str
    """The assessment's outcome in words: 优秀, 合格, 基本合格, 不合格."""
    violations: list[str] = Field(default_factory=list)
    authority: Authority


class ResearchViolation(Sourced):
    """Education & research: a finding of research misconduct [科研失信行为] in a funded project."""

    project_code: str
    project_name: str
    funder: str
    violation_type: str
    decided_on: date
    handling: str
    """What was decided: funding recovered, project terminated, applications banned ..."""
    ban_until: date | None = None
    """The last day of a ban from applying for funded projects, if one was imposed."""
    authority: Authority


class PerformanceStatus(enum.Enum):
    """How far a judgment debtor has performed the obligation the judgment set."""

    PERFORMED = "PERFORMED"
    PARTLY_PERFORMED = "PARTLY_PERFORMED"
    NOT_PERFORMED = "NOT_PERFORMED"


class JudgmentDebtorCase(Sourced):
    """Court: one publication of the subject as a dishonest judgment debtor [失信被执行人].

    The black-list effect is the court's `ListEntry` (``JUDGMENT_DEBTOR``); the case says why:
    what the judgment required, how much was performed and what dishonest conduct led to the
    listing. `exited_on` is the day the subject was removed from the list (performed, settled or
    the term ended).
    """

    case_number: str
    """The enforcement case number, e.g. （2024）湘0102执1234号."""
    court: Authority
    filed_on: date
    published_on: date
    obligation: str
    performance: PerformanceStatus
    dishonest_conduct: str
    exited_on: date | None = None


class CreditReportProviderKind(enum.Enum):
    """Who issued a credit report: the credit office itself or a third-party credit agency."""

    CREDIT_OFFICE = "CREDIT_OFFICE"
    AGENCY = "AGENCY"


class CreditReportProvider(RecordModel):
    """The issuer of a credit report.

    A third-party agency has its own USCC (`code`) and the filing number [备案号] under which the
    credit office admitted it; the credit office has no filing number.
    """

    kind: CreditReportProviderKind
    name: str
    code: str | None = None
    filing_number: str | None = None


class CreditReport(Sourced):
    """A credit report [信用报告] on the subject, valid for a limited time."""

    report_number: str
    provider: CreditReportProvider
    issued_on: date
    valid_until: date
    rating: str
    """The provider's rating, e.g. AAA, AA, A, BBB, BB, B, C."""
    purpose: str | None = None
    """What the report was commissioned for (bidding, financing ...), when stated."""

    def is_valid_on(self, today: date) -> bool:
        """Still valid on `today` (inclusive): an expired report must never be shown as current."""
        return self.valid_until >= today

    @property
    def expired(self) -> bool:
        """Past its validity in China today (computed when read, so a cached report expires)."""
        return not self.is_valid_on(today_in_china())


class FoodDrugRecord(SubjectRecord):
    department: ClassVar[str] = "food_drug"


class BiddingRecord(SubjectRecord):
    department: ClassVar[str] = "bidding"

    bids: list[Bid] = Field(default_factory=list)


class EducationRecord(SubjectRecord):
    department: ClassVar[str] = "education"

    teacher_records: list[TeacherRecord] = Field(default_factory=list)
    research_violations: list[ResearchViolation] = Field(default_factory=list)


class TaxRecord(SubjectRecord):
    department: ClassVar[str] = "tax"


class CustomsRecord(SubjectRecord):
    department: ClassVar[str] = "customs"


class CourtRecord(SubjectRecord):
    department: ClassVar[str] = "court"

    judgment_debtor_cases: list[JudgmentDebtorCase] = Field(default_factory=list)


class CreditAgencyRecord(SubjectRecord):
    department: ClassVar[str] = "credit_agency"

    reports: list[CreditReport] = Field(default_factory=list)


RECORD_MODELS: dict[str, type[SubjectRecord]] = {
    model.department: model
    for model in (
        EnvironmentRecord,
        QualityRecord,
        HealthRecord,
        CommerceRecord,
        FoodDrugRecord,
        BiddingRecord,
        EducationRecord,
        TaxRecord,
        CustomsRecord,
        CourtRecord,
        CreditAgencyRecord,
    )
}
"""The record model of each department key, in the order of the reference registries' ports."""


class BatchRequest(RecordModel):
    """Body of ``POST /v1/subjects:batch``."""

    ids: list[str] = Field(max_length=1000)


class BatchResponse(RecordModel):
    """Answer of ``POST /v1/subjects:batch``: the records found, and the ids the registry lacks."""

    records: dict[str, dict[str, object]]
    missing: list[str] = Field(default_factory=list)


class SubjectPage(RecordModel):
    """Answer of ``GET /v1/subjects?limit=&after=``: one page of the ids a registry holds."""

    ids: list[str]
    next: str | None = None


class RegistryHealth(RecordModel):
    """Answer of ``GET /v1/health``."""

    status: str
    department: str
    subjects: int | None = None
