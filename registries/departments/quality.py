"""Product quality: supervisory sampling inspections, production licences, penalties.

The registry holds about half of the enterprises and a fifth of the individual businesses. Products
follow the subject's trade; production licences exist only for the product families the
industrial-product licence catalogue still covers.
"""

from __future__ import annotations

from datetime import date, timedelta

from connectors.records import (
    Inspection,
    InspectionResult,
    Licence,
    PenaltyKind,
    QualityRecord,
    Severity,
)
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.penalties import Violation, penalties_for
from registries.names import (
    AGRICULTURE,
    CHEMICAL,
    CONSTRUCTION,
    FOOD,
    MANUFACTURING,
    PUBLIC_PLACE,
    TECHNOLOGY,
    TRADING,
)
from registries.subjects import Profile, SubjectKind, SubjectSeed

ENTERPRISE_COVERAGE = 0.50
SHOP_COVERAGE = 0.20

# (product, licence catalogue number or None, failing test items)
_PRODUCTS: dict[str, tuple[tuple[str, str | None, tuple[str, ...]], ...]] = {
    MANUFACTURING: (
        ("电线电缆", "06", ("导体电阻", "绝缘厚度", "绝缘老化前抗张强度")),
        ("建筑用钢筋", "05", ("屈服强度", "重量偏差", "断后伸长率")),
        ("水泥", "13", ("3天抗压强度", "氧化镁含量")),
        ("家用电冰箱", None, ("耗电量", "标志和说明")),
        ("电动自行车", None, ("最高车速", "整车质量", "防篡改")),
        ("童装", None, ("纤维含量", "绳带要求", "甲醛含量")),
    ),
    CHEMICAL: (
        ("复合肥料", "14", ("总养分", "水溶性磷占有效磷百分率")),
        ("危险化学品", "14", ("纯度", "包装标志")),
        ("涂料", None, ("挥发性有机化合物含量", "游离甲醛")),
    ),
    CONSTRUCTION: (
        ("塑料管材", None, ("静液压强度", "纵向回缩率")),
        ("防水卷材", "07", ("拉力", "低温柔性")),
    ),
    TECHNOLOGY: (
        ("电源适配器", None, ("输入功率", "标志和说明")),
        ("LED灯具", None, ("谐波电流", "无线电骚扰特性")),
    ),
    TRADING: (
        ("儿童玩具", None, ("小零件", "可迁移元素")),
        ("插头插座", None, ("防触电保护", "拔出插头所需的力")),
    ),
}
_DEFAULT_PRODUCTS = (
    ("办公用品", None, ("标志和说明",)),
    ("一次性塑料制品", None, ("溶剂残留", "标识")),
)
_LICENSABLE = frozenset({MANUFACTURING, CHEMICAL, CONSTRUCTION})
_NOT_INSPECTED = frozenset({PUBLIC_PLACE, AGRICULTURE, FOOD})

LAW_PQ = "《中华人民共和国产品质量法》"
REG_LICENCE = "《中华人民共和国工业产品生产许可证管理条例》"
F, C = PenaltyKind.FINE, PenaltyKind.CONFISCATION
VIOLATIONS = (
    Violation(
        "生产、销售不符合保障人身、财产安全的国家标准的产品",
        "{day}，经监督抽查，当事人生产的产品经检验不合格，不符合强制性国家标准要求。",
        f"{LAW_PQ}第四十九条",
        (F, C, PenaltyKind.OTHER),
        (10_000, 100_000),
        (PenaltyKind.SUSPENSION,),
    ),
    Violation(
        "在产品中掺杂、掺假，以次充好",
        "{day}，执法人员检查发现，当事人在生产的产品中以次充好，冒充合格产品销售。",
        f"{LAW_PQ}第五十条",
        (F, C),
        (20_000, 200_000),
        (PenaltyKind.LICENCE_REVOCATION,),
    ),
    Violation(
        "未取得生产许可证擅自生产列入目录的产品",
        "{day}，执法人员检查发现，当事人未取得工业产品生产许可证，擅自生产列入目录的产品。",
        f"{REG_LICENCE}第四十五条",
        (F, C, PenaltyKind.OTHER),
        (50_000, 200_000),
    ),
    Violation(
        "伪造、冒用认证标志",
        "{day}，执法人员检查发现，当事人在其产品及包装上冒用强制性产品认证标志。",
        f"{LAW_PQ}第五十三条",
        (F, C),
        (5_000, 50_000),
    ),
    Violation(
        "产品标识不符合规定",
        "{day}，执法人员检查发现，当事人销售的产品无中文厂名、厂址，未标明产品规格、等级。",
        f"{LAW_PQ}第五十四条",
        (PenaltyKind.WARNING, F),
        (2_000, 20_000),
    ),
)
DOC_CODE = "市监质罚"
_INSPECTION_KINDS = ("国家监督抽查", "省级监督抽查", "市级监督抽查")
_FAIL_ODDS = {Profile.CLEAN: 0.02, Profile.PENALISED: 0.4, Profile.DISHONEST: 0.7, Profile.RED: 0.0}


def holds(subject: SubjectSeed, roll: float) -> bool:
    if subject.kind is SubjectKind.LEGAL_PERSON:
        return roll < ENTERPRISE_COVERAGE
    if subject.kind is SubjectKind.INDIVIDUAL_BUSINESS:
        return roll < SHOP_COVERAGE
    return False


def build(ctx: RecordContext) -> QualityRecord:
    subject, rng = ctx.subject, ctx.rng
    county = office(Branch.MARKET, Level.COUNTY, subject.division)
    city = office(Branch.MARKET, Level.CITY, subject.division)
    province = office(Branch.MARKET, Level.PROVINCE, subject.division)

    def office_for(severity: Severity) -> Office:
        return city if severity is Severity.SERIOUS else county

    sector = subject.trade.sector if subject.trade else ""
    products = _PRODUCTS.get(sector, _DEFAULT_PRODUCTS)
    events: list[date] = []
    inspections: list[Inspection] = []
    if sector not in _NOT_INSPECTED or rng.random() < 0.2:
        for _ in range(rng.randint(1, 3)):
            inspection = _inspection(ctx, rng.choice(products), (province, city, county))
            inspections.append(inspection)
            events.append(inspection.inspected_on)
    inspections.sort(key=lambda inspection: inspection.inspected_on, reverse=True)
    licences: list[Licence] = []
    if subject.kind is SubjectKind.LEGAL_PERSON and sector in _LICENSABLE and rng.random() < 0.6:
        licensed = [product for product in products if product[1] is not None]
        if licensed:
            licences.append(_production_licence(ctx, rng.choice(licensed), province))
            events.append(licences[0].decision_date)
    penalties = penalties_for(ctx, VIOLATIONS, office_for, DOC_CODE)
    events.extend(penalty.decision_date for penalty in penalties)
    return QualityRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        penalties=penalties,
        licences=licences,
        inspections=inspections,
    )


def _inspection(
    ctx: RecordContext,
    product: tuple[str, str | None, tuple[str, ...]],
    offices: tuple[Office, Office, Office],
) -> Inspection:
    rng = ctx.rng
    item, _, failing = product
    level = rng.randrange(3)
    inspected_on = ctx.days_ago(10, 3 * 365)
    failed = rng.random() < _FAIL_ODDS[ctx.subject.profile]
    made_on = inspected_on - timedelta(days=rng.randint(5, 120))
    return Inspection(
        report_number=f"HNJD{inspected_on.year}{rng.randint(1, 99999):05d}",
        inspection_kind=_INSPECTION_KINDS[level],
        item=item,
        batch=f"{made_on:%Y%m%d}{rng.choice('ABCDE')}",
        inspected_on=inspected_on,
        result=InspectionResult.FAIL if failed else InspectionResult.PASS,
        failed_items=rng.sample(failing, k=rng.randint(1, len(failing))) if failed else [],
        authority=offices[level].authority,
    )


def _production_licence(
    ctx: RecordContext, product: tuple[str, str | None, tuple[str, ...]], province: Office
) -> Licence:
    rng = ctx.rng
    item, catalogue, _ = product
    decided_on = ctx.days_ago(30, 5 * 365 - 30)
    return Licence(
        document_number=f"湘市监许〔{decided_on.year}〕{ctx.number(4)}号",
        licence_kind="工业产品生产许可证",
        certificate_name="全国工业产品生产许可证",
        certificate_number=f"(湘)XK{catalogue}-{rng.randint(1, 999):03d}-{ctx.number(5):05d}",
        content=f"{item}生产许可",
        decision_date=decided_on,
        valid_from=decided_on,
        valid_to=add_years(decided_on, 5) - timedelta(days=1),
        authority=province.authority,
    )
