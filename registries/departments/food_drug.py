"""Food & drug: the A–D credit grade, food and drug business licences, sampling, penalties, and
the food & drug safety black list.

The registry holds every business that makes or sells food or drugs (food enterprises, caterers,
drug makers, clinics, grocers and eateries), every large enterprise (its canteen holds a food
business licence) and about a fifth of the others. No natural persons.
"""

from __future__ import annotations

from datetime import date, timedelta

from connectors.records import (
    FoodDrugRecord,
    Grade,
    Inspection,
    InspectionResult,
    Licence,
    ListEntry,
    PenaltyKind,
    Severity,
)
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.lists import grade, list_entry
from registries.departments.penalties import Violation, penalties_for
from registries.names import FOOD, MEDICAL, PUBLIC_PLACE, TRADING
from registries.subjects import Profile, SubjectKind, SubjectSeed

DEPARTMENT = "food_drug"
GRADE_SCHEME = "food_drug"
FOOD_DRUG_DISHONEST = "FOOD_DRUG_DISHONEST"
ENTERPRISE_COVERAGE = 0.20
SHOP_COVERAGE = 0.15
_FOOD_SHOPS = frozenset(
    {"餐馆", "小吃店", "粉店", "快餐店", "便利店", "副食店", "水果店", "茶叶店"}
)
_DRUG_WORDS = frozenset({"制药", "诊所", "医院", "口腔门诊部"})
_CATERING_WORDS = frozenset({"餐饮管理", "酒店管理"})

_GRADE_ODDS: dict[Profile, tuple[tuple[str, float], ...]] = {
    # A, the top grade, is reserved for RED subjects: a clean subject earns no incentive.
    Profile.CLEAN: (("B", 1.0),),
    Profile.PENALISED: (("B", 0.55), ("C", 0.45)),
    Profile.DISHONEST: (("C", 0.3), ("D", 0.7)),
    Profile.RED: (("A", 1.0),),
}
_BLACK_LIST_SHARE = 0.6
"""Share of DISHONEST subjects on the food & drug safety black list (all get a low grade)."""

LAW_FOOD = "《中华人民共和国食品安全法》"
LAW_DRUG = "《中华人民共和国药品管理法》"
F, C, W = PenaltyKind.FINE, PenaltyKind.CONFISCATION, PenaltyKind.WARNING
R = PenaltyKind.LICENCE_REVOCATION
FOOD_VIOLATIONS = (
    Violation(
        "经营超过保质期的食品",
        "{day}，执法人员检查发现，当事人经营的预包装食品已超过标注的保质期。",
        f"{LAW_FOOD}第一百二十四条第一款第五项",
        (F, C),
        (50_000, 100_000),
        (R,),
    ),
    Violation(
        "未取得食品经营许可从事食品经营活动",
        "{day}，执法人员检查发现，当事人未取得食品经营许可证，擅自从事餐饮服务活动。",
        f"{LAW_FOOD}第一百二十二条第一款",
        (F, C),
        (50_000, 100_000),
    ),
    Violation(
        "生产经营不符合食品安全标准的食品",
        "{day}，经监督抽检，当事人生产的食品菌落总数不符合食品安全国家标准。",
        f"{LAW_FOOD}第一百二十四条第一款第四项",
        (F, C),
        (50_000, 200_000),
        (PenaltyKind.SUSPENSION, R),
    ),
    Violation(
        "从业人员未取得健康证明从事接触直接入口食品的工作",
        "{day}，执法人员检查发现，当事人安排未取得健康证明的人员从事接触直接入口食品的工作。",
        f"{LAW_FOOD}第一百二十六条第一款第六项",
        (W, F),
        (5_000, 50_000),
    ),
)
DRUG_VIOLATIONS = (
    Violation(
        "销售假药",
        "{day}，执法人员检查发现，当事人销售的药品经检验与国家药品标准规定的成份不符。",
        f"{LAW_DRUG}第一百一十六条",
        (F, C),
        (100_000, 1_000_000),
        (R,),
    ),
    Violation(
        "未按照规定实施药品经营质量管理规范",
        "{day}，执法人员检查发现，当事人未按规定储存冷藏药品，未记录温湿度。",
        f"{LAW_DRUG}第一百二十六条",
        (W, F),
        (100_000, 500_000),
        (PenaltyKind.SUSPENSION,),
    ),
    Violation(
        "从无药品经营许可的单位购进药品",
        "{day}，执法人员检查发现，当事人从不具有药品经营资格的个人处购进药品。",
        f"{LAW_DRUG}第一百二十九条",
        (F, C),
        (50_000, 300_000),
    ),
)
DOC_CODE = "市监食药罚"
_SAMPLES = {
    FOOD: ("糕点", "饮料", "调味品", "肉制品", "速冻食品"),
    PUBLIC_PLACE: ("餐饮具", "自制熟肉制品", "米粉"),
    TRADING: ("蔬菜", "水果", "预包装饮料", "食用农产品"),
}
_FAILING_ITEMS = ("菌落总数", "大肠菌群", "苯甲酸及其钠盐", "农药残留（毒死蜱）", "过氧化值")


def holds(subject: SubjectSeed, roll: float) -> bool:
    trade = subject.trade
    if subject.kind is SubjectKind.LEGAL_PERSON:
        if subject.large or (trade is not None and _is_food_or_drug(trade.word, trade.sector)):
            return True
        return roll < ENTERPRISE_COVERAGE
    if subject.kind is SubjectKind.INDIVIDUAL_BUSINESS:
        return (
            trade is not None and trade.word in _FOOD_SHOPS | _DRUG_WORDS
        ) or roll < SHOP_COVERAGE
    return False


def _is_food_or_drug(word: str, sector: str) -> bool:
    return sector in (FOOD, MEDICAL) or word in _DRUG_WORDS | _CATERING_WORDS


def build(ctx: RecordContext) -> FoodDrugRecord:
    subject, rng = ctx.subject, ctx.rng
    county = office(Branch.MARKET, Level.COUNTY, subject.division)
    city = office(Branch.MARKET, Level.CITY, subject.division)
    drug_office = office(Branch.DRUG, Level.PROVINCE, subject.division)
    word = subject.trade.word if subject.trade else ""
    sector = subject.trade.sector if subject.trade else ""
    drugs = word in _DRUG_WORDS

    def office_for(severity: Severity) -> Office:
        if drugs and severity is Severity.SERIOUS:
            return drug_office
        return city if severity is Severity.SERIOUS else county

    licences = [_licence(ctx, county, drug_office, word, sector)]
    grades = [_grade(ctx, city)] if rng.random() < 0.8 or subject.profile is Profile.RED else []
    inspections = [_inspection(ctx, county, sector) for _ in range(rng.randint(0, 2))]
    inspections.sort(key=lambda inspection: inspection.inspected_on, reverse=True)
    penalties = penalties_for(
        ctx, DRUG_VIOLATIONS if drugs else FOOD_VIOLATIONS, office_for, DOC_CODE
    )
    entries = _black_list(ctx, city, penalties[0].decision_date if penalties else None)
    events = [licence.decision_date for licence in licences]
    events += [item.assessed_on for item in grades]
    events += [inspection.inspected_on for inspection in inspections]
    events += [penalty.decision_date for penalty in penalties]
    events += [entry.entered_on for entry in entries]
    return FoodDrugRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        grades=grades,
        penalties=penalties,
        licences=licences,
        inspections=inspections,
        list_entries=entries,
    )


def _licence(
    ctx: RecordContext, county: Office, drug_office: Office, word: str, sector: str
) -> Licence:
    """A food production, food business (incl. a canteen's) or drug business licence."""
    rng = ctx.rng
    division = ctx.subject.division_code
    decided_on = ctx.days_ago(30, 5 * 365 - 30)
    issuer = county
    if word == "制药":
        kind, number = "药品生产许可", f"湘{decided_on.year}{ctx.number(4):04d}"
        content, issuer = "生产范围：片剂、硬胶囊剂、颗粒剂", drug_office
    elif word in _DRUG_WORDS:
        kind, number = "药品经营许可", f"湘DA{division[2:4]}{ctx.number(5):05d}"
        content = "经营范围：中成药、化学药制剂、抗生素制剂、生化药品"
    elif sector == FOOD:
        kind = "食品生产许可"
        number = f"SC{rng.randint(101, 131)}43{division[2:6]}{ctx.number(4):04d}{rng.randint(0, 9)}"
        content = f"食品类别：{rng.choice(_SAMPLES[FOOD])}"
    else:
        kind = "食品经营许可"
        unit = 1 if sector == TRADING else 2
        if ctx.subject.kind is SubjectKind.LEGAL_PERSON and not _is_food_or_drug(word, sector):
            unit = 3  # a large enterprise's canteen
        number = f"JY{unit}43{division[2:6]}{ctx.number(6):06d}{rng.randint(0, 9)}"
        content = {1: "预包装食品销售", 2: "热食类食品制售", 3: "单位食堂（热食类食品制售）"}[unit]
    return Licence(
        document_number=f"{issuer.abbr}食药许〔{decided_on.year}〕{ctx.number(4)}号",
        licence_kind=kind,
        certificate_name=f"{kind}证",
        certificate_number=number,
        content=content,
        decision_date=decided_on,
        valid_from=decided_on,
        valid_to=add_years(decided_on, 5) - timedelta(days=1),
        authority=issuer.authority,
    )


def _grade(ctx: RecordContext, city: Office) -> Grade:
    """The annual grade, published in March for the year before, valid until the next is out."""
    rng = ctx.rng
    odds = _GRADE_ODDS[ctx.subject.profile]
    value = rng.choices([value for value, _ in odds], weights=[weight for _, weight in odds])[0]
    year = ctx.today.year - 1 if date(ctx.today.year, 3, 31) < ctx.today else ctx.today.year - 2
    assessed_on = date(year + 1, 3, rng.randint(1, 31))
    return grade(
        GRADE_SCHEME,
        value,
        year=year,
        assessed_on=assessed_on,
        valid_until=date(year + 2, 4, 30),
        authority=city.authority,
    )


def _inspection(ctx: RecordContext, county: Office, sector: str) -> Inspection:
    rng = ctx.rng
    inspected_on = ctx.days_ago(10, 2 * 365)
    failed = ctx.subject.profile in (Profile.PENALISED, Profile.DISHONEST) and rng.random() < 0.4
    return Inspection(
        report_number=f"HNSP{inspected_on.year}{rng.randint(1, 99999):05d}",
        inspection_kind="食品安全监督抽检",
        item=rng.choice(_SAMPLES.get(sector, _SAMPLES[TRADING])),
        batch=f"{inspected_on - timedelta(days=rng.randint(3, 60)):%Y%m%d}",
        inspected_on=inspected_on,
        result=InspectionResult.FAIL if failed else InspectionResult.PASS,
        failed_items=rng.sample(_FAILING_ITEMS, k=rng.randint(1, 2)) if failed else [],
        authority=county.authority,
    )


def _black_list(ctx: RecordContext, city: Office, last_penalty: date | None) -> list[ListEntry]:
    """DISHONEST subjects: mostly listed after their latest (serious) penalty, for three years."""
    if ctx.subject.profile is not Profile.DISHONEST or ctx.rng.random() >= _BLACK_LIST_SHARE:
        return []
    entered_on = (last_penalty or ctx.days_ago(60, 700)) + timedelta(days=ctx.rng.randint(5, 20))
    entered_on = min(entered_on, ctx.today - timedelta(days=1))
    return [
        list_entry(
            FOOD_DRUG_DISHONEST,
            department=DEPARTMENT,
            entered_on=entered_on,
            expires_on=add_years(entered_on, 3),
            reason="违反食品药品安全法律法规，受到较重行政处罚，情节严重",
            basis="《湖南省食品药品安全严重失信者名单管理办法》第六条",
            document_number=f"{city.abbr}市监食药信〔{entered_on.year}〕{ctx.number(3)}号",
            authority=city.authority,
        )
    ]
