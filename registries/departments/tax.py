"""Tax: the annual tax credit grade (A/B/M/C/D), major tax violations, A-level taxpayers.

Every enterprise and individual business is a taxpayer, so the registry holds all of them; natural
persons are not graded. Enterprises carry a grade for each of the last one to three assessed years
(published in April for the year before); individual businesses, graded only on request, half the
time one. A is reserved for RED subjects, who are also on the A-level taxpayer list; DISHONEST ones
are graded D (a C the year before) and mostly published as major tax violators.
"""

from __future__ import annotations

from datetime import date, timedelta

from connectors.records import Grade, ListEntry, PenaltyKind, Severity, TaxRecord
from connectors.vocabulary import default_vocabulary
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.lists import grade, list_entry
from registries.departments.penalties import Violation, penalties_for
from registries.subjects import Profile, SubjectKind, SubjectSeed

DEPARTMENT = "tax"
GRADE_SCHEME = "tax"
MAJOR_TAX_VIOLATION = "MAJOR_TAX_VIOLATION"
A_TAXPAYER = "A_TAXPAYER"
PUBLISHED_MONTH = 4
_MAJOR_SHARE = 0.6
"""Share of DISHONEST taxpayers published as major tax violators (all are graded D)."""

_GRADE_ODDS: dict[Profile, tuple[tuple[str, float], ...]] = {
    # A, the top grade, is reserved for RED subjects: a clean subject earns no incentive.
    Profile.CLEAN: (("B", 0.93), ("M", 0.07)),
    Profile.PENALISED: (("B", 0.55), ("C", 0.40), ("M", 0.05)),
    Profile.DISHONEST: (("D", 1.0),),
    Profile.RED: (("A", 1.0),),
}
_SCORES = {"A": (90, 99), "B": (70, 89), "C": (40, 69), "D": (11, 39)}

LAW_TAX = "《中华人民共和国税收征收管理法》"
F, W, C = PenaltyKind.FINE, PenaltyKind.WARNING, PenaltyKind.CONFISCATION
VIOLATIONS = (
    Violation(
        "偷税",
        "{day}，经检查，当事人通过在账簿上多列支出、少列收入的手段，少缴增值税及企业所得税。",
        f"{LAW_TAX}第六十三条第一款",
        (F, PenaltyKind.OTHER),
        (50_000, 2_000_000),
    ),
    Violation(
        "虚开增值税专用发票",
        "{day}，经检查，当事人在没有真实交易的情况下，为他人虚开增值税专用发票。",
        "《中华人民共和国发票管理办法》第三十五条",
        (F, C),
        (50_000, 500_000),
    ),
    Violation(
        "逃避追缴欠税",
        "{day}，经查，当事人欠缴应纳税款，采取转移财产的手段，妨碍税务机关追缴欠缴的税款。",
        f"{LAW_TAX}第六十五条",
        (F, PenaltyKind.OTHER),
        (20_000, 1_000_000),
    ),
    Violation(
        "未按照规定期限办理纳税申报",
        "{day}，经查，当事人未按照规定的期限办理增值税纳税申报和报送纳税资料。",
        f"{LAW_TAX}第六十二条",
        (W, F),
        (500, 10_000),
    ),
    Violation(
        "未按照规定保管发票",
        "{day}，经检查，当事人丢失已开具的增值税普通发票存根联。",
        "《中华人民共和国发票管理办法》第三十三条",
        (W, F),
        (500, 10_000),
        (C,),
    ),
)
DOC_CODE = "税稽罚"
_MAJOR_VIOLATIONS = ("偷税", "虚开增值税专用发票", "逃避追缴欠税")


def holds(subject: SubjectSeed, roll: float) -> bool:
    return subject.is_business


def build(ctx: RecordContext) -> TaxRecord:
    subject, rng = ctx.subject, ctx.rng
    county = office(Branch.TAX, Level.COUNTY, subject.division)
    city = office(Branch.TAX, Level.CITY, subject.division)
    province = office(Branch.TAX, Level.PROVINCE, subject.division)

    def office_for(severity: Severity) -> Office:
        return city if severity is Severity.SERIOUS else county

    grades = _grades(ctx, county)
    penalties = penalties_for(ctx, VIOLATIONS, office_for, DOC_CODE)
    entries: list[ListEntry] = []
    latest = grades[0] if grades else None
    if latest is not None and latest.value == "A":
        entries.append(_a_taxpayer(ctx, latest, province))
    serious = [p for p in penalties if p.severity is Severity.SERIOUS]
    if subject.profile is Profile.DISHONEST and serious and rng.random() < _MAJOR_SHARE:
        entries.append(_major_violation(ctx, serious[0].decision_date, city))
    events = [item.assessed_on for item in grades]
    events += [penalty.decision_date for penalty in penalties]
    events += [entry.entered_on for entry in entries]
    return TaxRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        grades=grades,
        penalties=penalties,
        list_entries=entries,
    )


def latest_assessed_year(today: date) -> int:
    """The latest year whose grades are out (published by the end of April of the next year)."""
    return today.year - 1 if date(today.year, PUBLISHED_MONTH, 30) < today else today.year - 2


def _grades(ctx: RecordContext, county: Office) -> list[Grade]:
    """The grades of the last one to three assessed years, newest first.

    Each is valid until the next year's grades are out (so exactly the newest is in force); a
    business set up during a year is graded M for it, and not at all before.
    """
    subject, rng = ctx.subject, ctx.rng
    if subject.kind is SubjectKind.INDIVIDUAL_BUSINESS and rng.random() < 0.5:
        return []
    latest = latest_assessed_year(ctx.today)
    years = 1 if subject.kind is SubjectKind.INDIVIDUAL_BUSINESS else rng.randint(1, 3)
    founded = subject.established_on.year if subject.established_on else 1990
    odds = _GRADE_ODDS[subject.profile]
    grades = []
    for year in range(latest, latest - years, -1):
        if year < founded:
            break
        value = rng.choices([v for v, _ in odds], weights=[w for _, w in odds])[0]
        if subject.profile is Profile.DISHONEST and year < latest:
            value = "C"  # the fall to D came with the latest assessment
        elif year == founded and subject.profile in (Profile.CLEAN, Profile.PENALISED):
            value = "M"
        low, high = _SCORES.get(value, (0, 0))
        score = float(rng.randint(low, high)) if value in _SCORES else None
        if score is not None:
            _check_score(value, score)
        assessed_on = date(year + 1, PUBLISHED_MONTH, rng.randint(1, 30))
        grades.append(
            grade(
                GRADE_SCHEME,
                value,
                score=score,
                year=year,
                assessed_on=assessed_on,
                valid_until=date(year + 2, PUBLISHED_MONTH, 30),
                authority=county.authority,
            )
        )
    return grades


def _check_score(value: str, score: float) -> None:
    """The generator's score bands must sit inside the vocabulary's ranges for the value."""
    term = default_vocabulary().grade_value(GRADE_SCHEME, value)
    if term.scored and not term.covers(score):  # pragma: no cover - guards the tables above
        raise ValueError(f"tax score {score} does not fit grade {value}")


def _a_taxpayer(ctx: RecordContext, latest: Grade, province: Office) -> ListEntry:
    """The A-level taxpayer list follows the latest grade, for as long as that grade is in force."""
    return list_entry(
        A_TAXPAYER,
        department=DEPARTMENT,
        entered_on=latest.assessed_on,
        expires_on=latest.valid_until,
        reason=f"{latest.year}年度纳税信用评价为A级",
        basis="《纳税信用管理办法（试行）》第二十七条",
        document_number=f"湘税公告〔{latest.assessed_on.year}〕{ctx.number(2)}号",
        authority=province.authority,
    )


def _major_violation(ctx: RecordContext, decided_on: date, city: Office) -> ListEntry:
    """Published a month or two after the decision, for three years."""
    entered_on = min(
        decided_on + timedelta(days=ctx.rng.randint(30, 60)), ctx.today - timedelta(days=1)
    )
    return list_entry(
        MAJOR_TAX_VIOLATION,
        department=DEPARTMENT,
        entered_on=entered_on,
        expires_on=add_years(entered_on, 3),
        reason=f"{ctx.rng.choice(_MAJOR_VIOLATIONS)}，达到重大税收违法失信案件标准",
        basis="《重大税收违法失信主体信息公布管理办法》第六条",
        document_number=f"{city.abbr}税稽公〔{entered_on.year}〕{ctx.number(3)}号",
        authority=city.authority,
    )
