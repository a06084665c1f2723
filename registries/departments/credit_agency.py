"""Credit agencies: the credit reports [信用报告] issued on enterprises.

The registry gathers the reports of the credit service agencies filed with the credit office and
the credit office's own public credit reports. It holds every large enterprise and about two
thirds of the others, each with one or two reports issued in the last three years and valid for
one, so most enterprises have a report that has expired: the gateway must show it as expired.
Ratings follow the profile; AAA is reserved for RED subjects.
"""

from __future__ import annotations

from datetime import timedelta

from connectors.records import (
    CreditAgencyRecord,
    CreditReport,
    CreditReportProvider,
    CreditReportProviderKind,
)
from registries.authorities import government_code, named_code
from registries.departments.context import RecordContext, add_years
from registries.subjects import Profile, SubjectKind, SubjectSeed

DEPARTMENT = "credit_agency"
COVERAGE = 0.65
CREDIT_OFFICE_SHARE = 0.2

CREDIT_OFFICE = CreditReportProvider(
    kind=CreditReportProviderKind.CREDIT_OFFICE,
    name="湖南省社会信用体系建设领导小组办公室",
    code=government_code("湖南省社会信用体系建设领导小组办公室", "430000"),
)
AGENCIES: tuple[tuple[CreditReportProvider, str], ...] = tuple(
    (
        CreditReportProvider(
            kind=CreditReportProviderKind.AGENCY,
            name=name,
            code=named_code("91", name, division),
            filing_number=f"湘信用服务备〔{year}〕{serial:03d}号",
        ),
        abbr,
    )
    for name, division, year, serial, abbr in (
        ("湖南楚天信用评估有限公司", "430102", 2017, 3, "CTXP"),
        ("湖南三湘资信评估有限公司", "430104", 2018, 11, "SXZX"),
        ("长沙星城信用管理有限公司", "430105", 2019, 24, "XCXY"),
        ("湖南华信征信服务有限公司", "430103", 2016, 1, "HXZX"),
        ("湖南立信信用评价有限公司", "430111", 2020, 37, "LXPJ"),
    )
)
"""The third-party agencies: each with a USCC and the filing number the credit office gave it."""

_RATINGS: dict[Profile, tuple[tuple[str, float], ...]] = {
    Profile.CLEAN: (("AA", 0.3), ("A", 0.45), ("BBB", 0.25)),
    Profile.PENALISED: (("A", 0.25), ("BBB", 0.45), ("BB", 0.3)),
    Profile.DISHONEST: (("BB", 0.3), ("B", 0.4), ("C", 0.3)),
    Profile.RED: (("AAA", 0.7), ("AA", 0.3)),
}
_PURPOSES = ("招标投标", "融资信贷", "政府采购", "评优评先", "行政审批", None)


def holds(subject: SubjectSeed, roll: float) -> bool:
    if subject.kind is not SubjectKind.LEGAL_PERSON:
        return False
    return subject.large or roll < COVERAGE


def build(ctx: RecordContext) -> CreditAgencyRecord:
    subject, rng = ctx.subject, ctx.rng
    reports = sorted(
        (_report(ctx) for _ in range(rng.choice((1, 1, 2)))),
        key=lambda report: report.issued_on,
        reverse=True,
    )
    return CreditAgencyRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at([report.issued_on for report in reports]),
        reports=reports,
    )


def _report(ctx: RecordContext) -> CreditReport:
    """Issued in the last three years, valid for a year (so about two thirds have expired)."""
    rng = ctx.rng
    issued_on = ctx.days_ago(5, 3 * 365)
    if ctx.subject.established_on is not None:
        issued_on = max(issued_on, ctx.subject.established_on + timedelta(days=30))
    odds = _RATINGS[ctx.subject.profile]
    rating = rng.choices([r for r, _ in odds], weights=[w for _, w in odds])[0]
    if rng.random() < CREDIT_OFFICE_SHARE:
        provider = CREDIT_OFFICE
        number = f"湘信报〔{issued_on.year}〕{ctx.number(6):06d}号"
    else:
        provider, abbr = rng.choice(AGENCIES)
        number = f"{abbr}-{issued_on:%Y%m%d}-{ctx.number(4):04d}"
    return CreditReport(
        report_number=number,
        provider=provider,
        issued_on=issued_on,
        valid_until=add_years(issued_on, 1) - timedelta(days=1),
        rating=rating,
        purpose=rng.choice(_PURPOSES),
    )
