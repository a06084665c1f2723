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


class DepartmentScoped(RecordModel):
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


class Penalty(RecordModel):
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


class Licence(RecordModel):
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


class Inspection(RecordModel):
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


class EiaReview(RecordModel):
    """Environment: the annual credit review of an environmental impact assessment agency."""

    year: int
    score: float = Field(ge=0, le=100)
    result: str
    reviewed_on: date
    findings: list[str] = Field(default_factory=list)
    authority: Authority


class Registration(RecordModel):
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


class EcommerceCheck(RecordModel):
    """Commerce: a supervision check of an online shop."""

    platform: str
    shop_name: str
    checked_on: date
    result: InspectionResult
    findings: list[str] = Field(default_factory=list)
    authority: Authority


class IndustryBan(RecordModel):
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


RECORD_MODELS: dict[str, type[SubjectRecord]] = {
    model.department: model
    for model in (EnvironmentRecord, QualityRecord, HealthRecord, CommerceRecord)
}
"""The record model of each department key."""


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
