"""Environment protection: credit grade, discharge permits, penalties, EIA agency reviews.

The registry holds about 60% of enterprises (those with emissions worth supervising) and every
environmental consultancy, which are the EIA agencies it reviews each year.
"""

from __future__ import annotations

from datetime import date, timedelta

from connectors.records import EiaReview, EnvironmentRecord, Grade, Licence, PenaltyKind, Severity
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.lists import grade
from registries.departments.penalties import Violation, penalties_for
from registries.names import CHEMICAL, ENVIRONMENTAL, FOOD, MANUFACTURING
from registries.subjects import Profile, SubjectKind, SubjectSeed

DEPARTMENT = "environment"
COVERAGE = 0.60
GRADE_SCHEME = "environment"
_GRADE_ODDS: dict[Profile, tuple[tuple[str, float], ...]] = {
    # A clean subject triggers no measure: GREEN (an incentive) is reserved for RED subjects,
    # YELLOW (a warning, no exemptions) for subjects with penalties.
    Profile.CLEAN: (("BLUE", 1.0),),
    Profile.PENALISED: (("BLUE", 0.30), ("YELLOW", 0.55), ("RED", 0.15)),
    Profile.DISHONEST: (("YELLOW", 0.10), ("RED", 0.90)),
    Profile.RED: (("GREEN", 1.0),),
}
_GRADE_SCORES = {"GREEN": (90, 100), "BLUE": (75, 89), "YELLOW": (60, 74), "RED": (30, 59)}
_EMITTING = frozenset({CHEMICAL, FOOD, MANUFACTURING})

LAW_EP = "《中华人民共和国环境保护法》"
LAW_AIR = "《中华人民共和国大气污染防治法》"
LAW_WATER = "《中华人民共和国水污染防治法》"
LAW_WASTE = "《中华人民共和国固体废物污染环境防治法》"
LAW_EIA = "《中华人民共和国环境影响评价法》"
REG_PERMIT = "《排污许可管理条例》"

F, W, S = PenaltyKind.FINE, PenaltyKind.WARNING, PenaltyKind.SUSPENSION
VIOLATIONS = (
    Violation(
        "超标排放大气污染物",
        "{day}，执法人员现场检查发现，当事人锅炉废气排放口颗粒物、二氧化硫排放浓度超过"
        "《锅炉大气污染物排放标准》规定的限值。",
        f"{LAW_AIR}第九十九条第二项",
        (F,),
        (100_000, 1_000_000),
        (PenaltyKind.PRODUCTION_RESTRICTION,),
    ),
    Violation(
        "未依法取得排污许可证排放污染物",
        "{day}，执法人员检查发现，当事人未取得排污许可证，擅自排放生产废水。",
        f"{REG_PERMIT}第三十三条第一项",
        (F,),
        (200_000, 1_000_000),
        (S,),
    ),
    Violation(
        "通过暗管逃避监管排放水污染物",
        "{day}，执法人员在当事人厂区东侧发现一处暗管，当事人通过该暗管将未经处理的"
        "生产废水直接排入外环境。",
        f"{LAW_WATER}第八十三条第三项；{LAW_EP}第五十九条",
        (F,),
        (200_000, 1_000_000),
        (S, PenaltyKind.DETENTION),
    ),
    Violation(
        "建设项目未批先建",
        "{day}，执法人员检查发现，当事人扩建项目环境影响报告表未经审批即开工建设。",
        f"{LAW_EIA}第三十一条第一款",
        (F, PenaltyKind.OTHER),
        (50_000, 200_000),
    ),
    Violation(
        "未按规定贮存危险废物",
        "{day}，执法人员现场检查发现，当事人将废矿物油等危险废物露天堆放，未设置危险废物识别标志。",
        f"{LAW_WASTE}第一百一十二条第一款第六项",
        (F, PenaltyKind.OTHER),
        (100_000, 500_000),
        (S,),
    ),
    Violation(
        "未按规定开展自行监测",
        "{day}，执法人员检查发现，当事人未按照排污许可证规定开展自行监测并保存原始监测记录。",
        f"{REG_PERMIT}第三十六条第六项",
        (W, F),
        (20_000, 200_000),
    ),
)
DOC_CODE = "环罚"

_EIA_FINDINGS = (
    "环境影响报告书基础资料明显不实",
    "编制主持人未全过程组织参与编制工作",
    "环境影响评价结论不明确",
    "未按规定在信用平台更新编制人员信息",
    "遗漏环境保护目标",
)


def holds(subject: SubjectSeed, roll: float) -> bool:
    if subject.kind is not SubjectKind.LEGAL_PERSON:
        return False
    return (subject.trade is not None and subject.trade.sector == ENVIRONMENTAL) or roll < COVERAGE


def build(ctx: RecordContext) -> EnvironmentRecord:
    subject, rng = ctx.subject, ctx.rng
    city = office(Branch.ECOLOGY, Level.CITY, subject.division)
    branch = office(Branch.ECOLOGY, Level.COUNTY, subject.division)
    province = office(Branch.ECOLOGY, Level.PROVINCE, subject.division)

    def office_for(severity: Severity) -> Office:
        if severity is Severity.SERIOUS:
            return province if rng.random() < 0.3 else city
        return city

    events: list[date] = []
    grades = []
    if subject.profile in (Profile.DISHONEST, Profile.RED) or rng.random() < 0.7:
        grades.append(_grade(ctx, city))
        events.append(grades[0].assessed_on)
    licences = []
    sector = subject.trade.sector if subject.trade else ""
    if rng.random() < (0.8 if sector in _EMITTING else 0.25):
        licences.append(_discharge_permit(ctx, city, branch))
        events.append(licences[0].decision_date)
    penalties = penalties_for(ctx, VIOLATIONS, office_for, DOC_CODE)
    events.extend(penalty.decision_date for penalty in penalties)
    reviews = _eia_reviews(ctx, province) if sector == ENVIRONMENTAL else []
    events.extend(review.reviewed_on for review in reviews)
    return EnvironmentRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        grades=grades,
        penalties=penalties,
        licences=licences,
        eia_reviews=reviews,
    )


def _assessment_year(ctx: RecordContext, month: int) -> int:
    """The latest year whose annual assessment (published in `month` of the next year) is out."""
    year = ctx.today.year - 1
    return year if date(year + 1, month, 28) < ctx.today else year - 1


def _grade(ctx: RecordContext, city: Office) -> Grade:
    rng = ctx.rng
    odds = _GRADE_ODDS[ctx.subject.profile]
    value = rng.choices([value for value, _ in odds], weights=[weight for _, weight in odds])[0]
    month = rng.randint(3, 6)
    year = _assessment_year(ctx, month)
    assessed_on = date(year + 1, month, rng.randint(1, 28))
    low, high = _GRADE_SCORES[value]
    return grade(
        GRADE_SCHEME,
        value,
        score=float(rng.randint(low, high)),
        year=year,
        assessed_on=assessed_on,
        valid_until=add_years(assessed_on, 1),
        authority=city.authority,
    )


def _discharge_permit(ctx: RecordContext, city: Office, branch: Office) -> Licence:
    rng = ctx.rng
    key = rng.random() < 0.4
    decided_on = ctx.days_ago(30, 5 * 365 - 30)
    management = "重点管理" if key else "简化管理"
    issuer = city if key else branch
    return Licence(
        document_number=f"{issuer.abbr}环排许〔{decided_on.year}〕{ctx.number(3)}号",
        licence_kind="排污许可证",
        certificate_name="排污许可证",
        certificate_number=f"{ctx.subject.id}{rng.randint(1, 3):03d}{'P' if key else 'Q'}",
        content=f"排污许可证核发（{management}）",
        decision_date=decided_on,
        valid_from=decided_on,
        valid_to=add_years(decided_on, 5) - timedelta(days=1),
        authority=issuer.authority,
    )


def _eia_reviews(ctx: RecordContext, province: Office) -> list[EiaReview]:
    rng = ctx.rng
    reviews = []
    latest = _assessment_year(ctx, 3)
    low, high = {
        Profile.CLEAN: (78, 96),
        Profile.PENALISED: (60, 85),
        Profile.DISHONEST: (30, 62),
        Profile.RED: (92, 100),
    }[ctx.subject.profile]
    for year in range(latest - rng.randint(0, 2), latest + 1):
        score = float(rng.randint(low, high))
        findings = rng.sample(_EIA_FINDINGS, k=rng.randint(1, 2)) if score < 80 else []
        reviews.append(
            EiaReview(
                year=year,
                score=score,
                result=_eia_result(score),
                reviewed_on=date(year + 1, 3, rng.randint(1, 28)),
                findings=findings,
                authority=province.authority,
            )
        )
    return reviews


def _eia_result(score: float) -> str:
    if score >= 90:
        return "诚信"
    if score >= 70:
        return "守信"
    if score >= 60:
        return "警示"
    return "失信"
