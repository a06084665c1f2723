"""Commerce / market regulation: registration, abnormal-operation and serious-dishonesty lists,
honours, e-commerce supervision, penalties.

The registry holds every enterprise and individual business (it registered them) and no natural
persons. Its lists carry the profile most visibly: every DISHONEST business is on the current
serious-dishonesty black list, most RED ones on an honours red list. The legal representative is
a natural person of the dataset where one is near; for `Story.DISHONEST_OFFICER` enterprises it is
one the court lists as a dishonest judgment debtor, so an official can follow the enterprise to the
person in charge and find the restriction there.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from connectors.records import (
    CommerceRecord,
    EcommerceCheck,
    InspectionResult,
    ListEntry,
    PenaltyKind,
    Person,
    Registration,
    RegistrationStatus,
    Severity,
)
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.lists import list_entry
from registries.departments.penalties import Violation, penalties_for
from registries.names import SCOPES, TRADING, address
from registries.subjects import Profile, Story, SubjectKind, SubjectSeed, make_person

DEPARTMENT = "commerce"
SERIOUS_DISHONEST = "SERIOUS_DISHONEST"
ABNORMAL_OPERATION = "ABNORMAL_OPERATION"
HONOUR = "HONOUR"

F, C, W = PenaltyKind.FINE, PenaltyKind.CONFISCATION, PenaltyKind.WARNING
VIOLATIONS = (
    Violation(
        "虚假宣传",
        "{day}，执法人员检查发现，当事人在其经营场所及网络店铺对商品的性能、功能作虚假的商业宣传。",
        "《中华人民共和国反不正当竞争法》第二十条第一款",
        (F,),
        (10_000, 200_000),
        (PenaltyKind.LICENCE_REVOCATION,),
    ),
    Violation(
        "发布虚假广告",
        "{day}，执法人员检查发现，当事人在微信公众号发布含有虚假内容的广告，欺骗、误导消费者。",
        "《中华人民共和国广告法》第五十五条第一款",
        (F, PenaltyKind.OTHER),
        (20_000, 200_000),
        (PenaltyKind.LICENCE_REVOCATION,),
    ),
    Violation(
        "电子商务经营者未公示营业执照信息",
        "{day}，执法人员网络巡查发现，当事人开设的网络店铺未在首页显著位置公示营业执照信息。",
        "《中华人民共和国电子商务法》第七十六条第一款第一项",
        (PenaltyKind.OTHER, F),
        (1_000, 10_000),
    ),
    Violation(
        "侵害消费者权益",
        "{day}，执法人员根据消费者投诉调查发现，当事人以预付卡方式收取费用后未按照约定提供服务。",
        "《中华人民共和国消费者权益保护法》第五十六条第一款第八项",
        (W, F, C),
        (5_000, 100_000),
        (PenaltyKind.SUSPENSION,),
    ),
    Violation(
        "销售侵犯注册商标专用权的商品",
        "{day}，执法人员检查发现，当事人销售的商品使用了与他人注册商标相同的标识。",
        "《中华人民共和国商标法》第六十条第二款",
        (F, C),
        (5_000, 150_000),
    ),
)
DOC_CODE = "市监处罚"

_LEGAL_TYPES = (
    "有限责任公司（自然人投资或控股）",
    "有限责任公司（自然人独资）",
    "有限责任公司（非自然人投资或控股的法人独资）",
)
_CAPITALS = (100_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 50_000_000)
_PLATFORMS = ("淘宝", "天猫", "京东", "拼多多", "抖音电商", "美团")
_ECOMMERCE_FINDINGS = (
    "未在首页显著位置持续公示营业执照信息",
    "商品详情页使用“最佳”“第一”等绝对化用语",
    "未明示商品的售后服务承诺",
    "刷单炒信，虚构交易记录",
)
_ABNORMAL_REASONS = (
    ("未按照规定期限公示年度报告", "《企业经营异常名录管理暂行办法》第四条第一项"),
    ("通过登记的住所或者经营场所无法联系", "《企业经营异常名录管理暂行办法》第四条第四项"),
    ("公示信息隐瞒真实情况、弄虚作假", "《企业经营异常名录管理暂行办法》第四条第三项"),
)
_ABNORMAL_ODDS = {
    Profile.CLEAN: 0.03,
    Profile.PENALISED: 0.25,
    Profile.DISHONEST: 0.6,
    Profile.RED: 0.0,
}


def holds(subject: SubjectSeed, roll: float) -> bool:
    return subject.is_business


def build(ctx: RecordContext) -> CommerceRecord:
    subject, rng = ctx.subject, ctx.rng
    county = office(Branch.MARKET, Level.COUNTY, subject.division)
    city = office(Branch.MARKET, Level.CITY, subject.division)
    province = office(Branch.MARKET, Level.PROVINCE, subject.division)

    def office_for(severity: Severity) -> Office:
        return city if severity is Severity.SERIOUS else county

    registration = _registration(ctx, county)
    entries = _list_entries(ctx, county, city, province)
    sector = subject.trade.sector if subject.trade else ""
    checks = []
    if rng.random() < (0.3 if sector == TRADING else 0.08):
        checks = [_ecommerce_check(ctx, county) for _ in range(rng.randint(1, 2))]
    penalties = penalties_for(ctx, VIOLATIONS, office_for, DOC_CODE)
    events = [registration.established_on, *(entry.entered_on for entry in entries)]
    events += [entry.exited_on for entry in entries if entry.exited_on is not None]
    events += [check.checked_on for check in checks]
    events += [penalty.decision_date for penalty in penalties]
    return CommerceRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        penalties=penalties,
        list_entries=entries,
        registration=registration,
        ecommerce_checks=sorted(checks, key=lambda check: check.checked_on, reverse=True),
    )


def _registration(ctx: RecordContext, county: Office) -> Registration:
    subject, rng = ctx.subject, ctx.rng
    assert subject.established_on is not None
    assert subject.trade is not None
    if subject.kind is SubjectKind.INDIVIDUAL_BUSINESS:
        name, id_number = make_person(rng, subject.family_name)
        representative = Person(name=name, id_number=id_number)
        kind = "个体工商户"
        capital = rng.randint(1, 50) * 10_000
    else:
        representative = ctx.find_person(rng)
        if subject.story is Story.DISHONEST_OFFICER:
            # Drawn apart from `rng`, so the rest of the registration stays as it was.
            representative = ctx.find_listed_person(subject) or representative
        capital = rng.choice(_CAPITALS)
        if subject.name.endswith("股份有限公司"):
            kind = "股份有限公司（非上市、自然人投资或控股）"
            capital *= 10
        elif subject.name.endswith("厂"):
            kind = "个人独资企业"
        else:
            kind = rng.choice(_LEGAL_TYPES)
    status = RegistrationStatus.ACTIVE
    roll = rng.random()
    if subject.profile is Profile.DISHONEST and roll < 0.25:
        status = RegistrationStatus.REVOKED
    elif subject.profile is Profile.PENALISED and roll < 0.03:
        status = RegistrationStatus.SUSPENDED
    elif subject.profile is Profile.CLEAN and roll < 0.02:
        status = RegistrationStatus.CANCELLED
    return Registration(
        name=subject.name,
        enterprise_type=kind,
        legal_representative=representative,
        registered_capital=Decimal(capital).quantize(Decimal("0.01")),
        established_on=subject.established_on,
        address=address(rng, subject.division),
        business_scope=SCOPES[subject.trade.sector],
        status=status,
        authority=county.authority,
    )


def _list_entries(
    ctx: RecordContext, county: Office, city: Office, province: Office
) -> list[ListEntry]:
    subject, rng = ctx.subject, ctx.rng
    entries: list[ListEntry] = []
    business = subject.kind is SubjectKind.LEGAL_PERSON
    if rng.random() < _ABNORMAL_ODDS[subject.profile]:
        reason, basis = rng.choice(_ABNORMAL_REASONS)
        if not business:
            reason, basis = "未按照规定报送年度报告", "《个体工商户年度报告暂行办法》第十三条"
        entered_on = ctx.days_ago(60, 4 * 365)
        exited = subject.profile is Profile.CLEAN or rng.random() < 0.5
        last_day = ctx.today - timedelta(days=1)
        exit_day = ctx.day_between(entered_on + timedelta(days=30), last_day) if exited else None
        entries.append(
            list_entry(
                ABNORMAL_OPERATION,
                department=DEPARTMENT,
                entered_on=entered_on,
                exited_on=exit_day,
                reason=reason,
                basis=basis,
                document_number=f"{county.abbr}市监异〔{entered_on.year}〕{ctx.number(4)}号",
                authority=county.authority,
            )
        )
    if subject.profile is Profile.DISHONEST:
        entered_on = ctx.days_ago(20, 2 * 365)
        entries.append(
            list_entry(
                SERIOUS_DISHONEST,
                department=DEPARTMENT,
                entered_on=entered_on,
                expires_on=add_years(entered_on, 3),
                reason="列入市场监督管理严重违法失信名单：实施严重违法行为，受到较重行政处罚",
                basis="《市场监督管理严重违法失信名单管理办法》第二条",
                document_number=f"{city.abbr}市监失信〔{entered_on.year}〕{ctx.number(3)}号",
                authority=city.authority,
            )
        )
    elif subject.profile is Profile.RED and rng.random() < 0.75:
        entered_on = ctx.days_ago(30, 2 * 365 - 30)
        honour = "湖南省“守合同重信用”企业" if business else "诚信经营示范店"
        entries.append(
            list_entry(
                HONOUR,
                department=DEPARTMENT,
                entered_on=entered_on,
                expires_on=add_years(entered_on, 2),
                reason=f"获评{honour}：连续两年以上合同履约状况良好，无不良信用记录",
                basis="湖南省“守合同重信用”企业公示活动有关规定",
                document_number=f"湘市监信〔{entered_on.year}〕{ctx.number(2)}号",
                authority=province.authority,
            )
        )
    return entries


def _ecommerce_check(ctx: RecordContext, county: Office) -> EcommerceCheck:
    subject, rng = ctx.subject, ctx.rng
    failed = subject.profile in (Profile.PENALISED, Profile.DISHONEST) and rng.random() < 0.5
    word = subject.trade.word if subject.trade else ""
    return EcommerceCheck(
        platform=rng.choice(_PLATFORMS),
        shop_name=f"{subject.brand}{word}{rng.choice(('旗舰店', '专营店', '官方店'))}",
        checked_on=ctx.days_ago(10, 2 * 365),
        result=InspectionResult.FAIL if failed else InspectionResult.PASS,
        findings=rng.sample(_ECOMMERCE_FINDINGS, k=rng.randint(1, 2)) if failed else [],
        authority=county.authority,
    )
