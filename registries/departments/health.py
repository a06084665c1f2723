"""Health: medical institution and public-place hygiene licences, practitioner licences, penalties,
industry bans for serious dishonesty.

The registry holds about 35% of enterprises (clinics and public places, and occupational-health
cases elsewhere), 30% of individual businesses and 60% of natural persons (its practitioners).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from connectors.records import (
    HealthRecord,
    IndustryBan,
    Inspection,
    InspectionResult,
    Licence,
    ListEntry,
    PenaltyKind,
    Person,
    Severity,
)
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.lists import list_entry
from registries.departments.penalties import Violation, penalties_for
from registries.names import MEDICAL, PUBLIC_PLACE
from registries.subjects import Profile, SubjectKind, SubjectSeed

DEPARTMENT = "health"
COVERAGE = {
    SubjectKind.LEGAL_PERSON: 0.35,
    SubjectKind.INDIVIDUAL_BUSINESS: 0.30,
    SubjectKind.NATURAL_PERSON: 0.60,
}

LAW_PHYSICIANS = "《中华人民共和国医师法》"
REG_MEDICAL = "《医疗机构管理条例》"
REG_PUBLIC = "《公共场所卫生管理条例实施细则》"
LAW_OCCUPATIONAL = "《中华人民共和国职业病防治法》"
F, W = PenaltyKind.FINE, PenaltyKind.WARNING

_INSTITUTION_VIOLATIONS = (
    Violation(
        "使用非卫生技术人员从事医疗卫生技术工作",
        "{day}，执法人员检查发现，当事人聘用未取得医师资格的人员从事诊疗活动。",
        f"{REG_MEDICAL}第四十七条",
        (F, PenaltyKind.OTHER),
        (10_000, 100_000),
        (PenaltyKind.LICENCE_REVOCATION,),
    ),
    Violation(
        "超出登记的诊疗科目范围开展诊疗活动",
        "{day}，执法人员检查发现，当事人超出核准登记的诊疗科目开展医疗美容项目。",
        f"{REG_MEDICAL}第四十六条",
        (W, F),
        (10_000, 100_000),
        (PenaltyKind.SUSPENSION,),
    ),
)
_PUBLIC_PLACE_VIOLATIONS = (
    Violation(
        "公共用品用具未按规定清洗消毒",
        "{day}，执法人员现场检查发现，当事人提供给顾客使用的毛巾、床上用品未按规定清洗消毒。",
        f"{REG_PUBLIC}第三十六条第二项",
        (W, F),
        (1_000, 20_000),
    ),
    Violation(
        "从业人员未取得有效健康合格证明上岗",
        "{day}，执法人员检查发现，当事人安排未取得有效健康合格证明的从业人员从事直接为顾客服务的工作。",
        f"{REG_PUBLIC}第三十八条",
        (W, F),
        (500, 5_000),
    ),
    Violation(
        "未依法取得公共场所卫生许可证擅自营业",
        "{day}，执法人员检查发现，当事人未取得公共场所卫生许可证擅自营业。",
        f"{REG_PUBLIC}第三十五条",
        (W, F),
        (500, 30_000),
    ),
)
_OCCUPATIONAL_VIOLATIONS = (
    Violation(
        "未按规定组织劳动者进行职业健康检查",
        "{day}，执法人员检查发现，当事人未组织接触职业病危害因素的劳动者进行上岗前职业健康检查。",
        f"{LAW_OCCUPATIONAL}第七十一条第四项",
        (W, F),
        (50_000, 100_000),
    ),
    Violation(
        "未按规定进行职业病危害因素检测",
        "{day}，执法人员检查发现，当事人未按照规定对工作场所职业病危害因素进行检测、评价。",
        f"{LAW_OCCUPATIONAL}第七十二条第三项",
        (W, F),
        (50_000, 200_000),
        (PenaltyKind.SUSPENSION,),
    ),
)
_PRACTITIONER_VIOLATIONS = (
    Violation(
        "未按照规定书写、保管病历",
        "{day}，执法人员检查发现，当事人在执业活动中未按照规定及时书写病历资料。",
        f"{LAW_PHYSICIANS}第五十六条第一项",
        (W, F),
        (10_000, 30_000),
        (PenaltyKind.SUSPENSION,),
    ),
    Violation(
        "出具虚假医学证明文件",
        "{day}，执法人员调查发现，当事人在未亲自诊查的情况下签署并出具虚假医学证明文件。",
        f"{LAW_PHYSICIANS}第五十五条第三项",
        (W, F, PenaltyKind.CONFISCATION),
        (10_000, 30_000),
        (PenaltyKind.LICENCE_REVOCATION,),
    ),
    Violation(
        "超出注册的执业范围执业",
        "{day}，执法人员检查发现，当事人超出注册的执业范围从事诊疗活动。",
        f"{LAW_PHYSICIANS}第五十七条",
        (W, F),
        (10_000, 30_000),
    ),
)
DOC_CODE = "卫罚"
_PUBLIC_PLACE_ITEMS = {
    "酒店管理": "住宿场所",
    "美容美发": "美容美发场所",
    "健身服务": "游泳场（馆）",
    "理发店": "美容美发场所",
    "足浴店": "沐浴场所",
}
_CLINICAL_DEPARTMENTS = ("口腔科", "内科", "外科", "医学检验科", "中医科")
_SPECIALTIES = ("内科专业", "外科专业", "妇产科专业", "儿科专业", "口腔专业", "中医专业")


def holds(subject: SubjectSeed, roll: float) -> bool:
    return roll < COVERAGE[subject.kind]


def build(ctx: RecordContext) -> HealthRecord:
    if ctx.subject.kind is SubjectKind.NATURAL_PERSON:
        return _practitioner(ctx)
    return _institution(ctx)


def _institution(ctx: RecordContext) -> HealthRecord:
    subject = ctx.subject
    county = office(Branch.HEALTH, Level.COUNTY, subject.division)
    city = office(Branch.HEALTH, Level.CITY, subject.division)

    def office_for(severity: Severity) -> Office:
        return city if severity is Severity.SERIOUS else county

    sector = subject.trade.sector if subject.trade else ""
    word = subject.trade.word if subject.trade else ""
    licences: list[Licence] = []
    inspections: list[Inspection] = []
    violations: Sequence[Violation]
    if sector == MEDICAL:
        licences.append(_medical_licence(ctx, county))
        violations = _INSTITUTION_VIOLATIONS
    elif sector == PUBLIC_PLACE and word in _PUBLIC_PLACE_ITEMS:
        licences.append(_hygiene_licence(ctx, county, _PUBLIC_PLACE_ITEMS[word]))
        inspections.append(_inspection(ctx, county, "公共场所卫生监督抽检", "公共用品用具"))
        violations = _PUBLIC_PLACE_VIOLATIONS
    else:
        inspections.append(_inspection(ctx, county, "职业卫生监督检查", "工作场所职业病危害因素"))
        violations = _OCCUPATIONAL_VIOLATIONS
    penalties = penalties_for(ctx, violations, office_for, DOC_CODE)
    events = [licence.decision_date for licence in licences]
    events += [inspection.inspected_on for inspection in inspections]
    events += [penalty.decision_date for penalty in penalties]
    return HealthRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        penalties=penalties,
        licences=licences,
        inspections=inspections,
    )


def _practitioner(ctx: RecordContext) -> HealthRecord:
    subject, rng = ctx.subject, ctx.rng
    city = office(Branch.HEALTH, Level.CITY, subject.division)
    province = office(Branch.HEALTH, Level.PROVINCE, subject.division)
    licences = [_practice_licence(ctx, city)]
    penalties = penalties_for(ctx, _PRACTITIONER_VIOLATIONS, lambda _: city, DOC_CODE)
    bans: list[IndustryBan] = []
    entries: list[ListEntry] = []
    if subject.profile is Profile.DISHONEST:
        starts_on = ctx.days_ago(30, 2 * 365)
        if rng.random() < 0.7:
            bans.append(
                IndustryBan(
                    person=Person(name=subject.name, id_number=subject.id),
                    industry="医疗卫生行业",
                    starts_on=starts_on,
                    ends_on=None if rng.random() < 0.3 else add_years(starts_on, 5),
                    reason="出具虚假医学证明文件，情节严重，被吊销医师执业证书",
                    basis=f"{LAW_PHYSICIANS}第五十五条",
                    authority=city.authority,
                )
            )
        entries.append(
            list_entry(
                "SERIOUS_DISHONEST",
                department=DEPARTMENT,
                entered_on=starts_on,
                expires_on=add_years(starts_on, 3),
                reason="列入医疗卫生行业严重失信主体名单：违反医疗卫生法律法规，情节严重",
                basis="《国务院办公厅关于改革完善医疗卫生行业综合监管制度的指导意见》（国办发〔2018〕63号）",
                document_number=f"{city.abbr}卫信〔{starts_on.year}〕{ctx.number(2)}号",
                authority=city.authority,
            )
        )
    elif subject.profile is Profile.RED and rng.random() < 0.7:
        entered_on = ctx.days_ago(60, 3 * 365)
        entries.append(
            list_entry(
                "HONOUR",
                department=DEPARTMENT,
                entered_on=entered_on,
                expires_on=add_years(entered_on, 3),
                reason="获评医德医风先进个人：医德高尚，诚信执业，群众满意度高",
                basis="湖南省卫生健康行业表彰奖励有关规定",
                document_number=f"湘卫人〔{entered_on.year}〕{ctx.number(2)}号",
                authority=province.authority,
            )
        )
    events = [licences[0].decision_date, *(penalty.decision_date for penalty in penalties)]
    events += [entry.entered_on for entry in entries]
    return HealthRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        penalties=penalties,
        licences=licences,
        list_entries=entries,
        industry_bans=bans,
    )


def _medical_licence(ctx: RecordContext, county: Office) -> Licence:
    rng = ctx.rng
    decided_on = ctx.days_ago(30, 5 * 365 - 30)
    return Licence(
        document_number=f"{county.abbr}卫医许〔{decided_on.year}〕{ctx.number(3)}号",
        licence_kind="医疗机构执业许可",
        certificate_name="医疗机构执业许可证",
        certificate_number=(
            f"PDY{rng.randint(1, 99999):05d}{ctx.subject.division_code}"
            f"{rng.randint(10, 99)}{rng.choice('ABDJ')}{rng.randint(1000, 9999)}"
        ),
        content=f"诊疗科目：{'；'.join(rng.sample(_CLINICAL_DEPARTMENTS, 2))}",
        decision_date=decided_on,
        valid_from=decided_on,
        valid_to=add_years(decided_on, 5) - timedelta(days=1),
        authority=county.authority,
    )


def _hygiene_licence(ctx: RecordContext, county: Office, item: str) -> Licence:
    decided_on = ctx.days_ago(30, 4 * 365 - 30)
    return Licence(
        document_number=f"{county.abbr}卫公许〔{decided_on.year}〕{ctx.number(3)}号",
        licence_kind="公共场所卫生许可",
        certificate_name="公共场所卫生许可证",
        certificate_number=(
            f"湘卫公证字〔{decided_on.year}〕第{ctx.subject.division_code}{ctx.number(6):06d}号"
        ),
        content=f"许可项目：{item}",
        decision_date=decided_on,
        valid_from=decided_on,
        valid_to=add_years(decided_on, 4) - timedelta(days=1),
        authority=county.authority,
    )


def _practice_licence(ctx: RecordContext, city: Office) -> Licence:
    rng = ctx.rng
    if rng.random() < 0.7:
        decided_on = ctx.days_ago(60, 15 * 365)
        return Licence(
            document_number=f"{city.abbr}卫医师注〔{decided_on.year}〕{ctx.number(4)}号",
            licence_kind="医师执业注册",
            certificate_name="医师执业证书",
            certificate_number=(
                f"1{rng.randint(1, 4)}{ctx.subject.division_code}{ctx.number(7):07d}"
            ),
            content=f"执业类别：临床；执业范围：{rng.choice(_SPECIALTIES)}",
            decision_date=decided_on,
            valid_from=decided_on,
            authority=city.authority,
        )
    decided_on = ctx.days_ago(60, 5 * 365 - 60)
    return Licence(
        document_number=f"{city.abbr}卫护注〔{decided_on.year}〕{ctx.number(4)}号",
        licence_kind="护士执业注册",
        certificate_name="护士执业证书",
        certificate_number=f"{decided_on.year}{ctx.number(8):08d}",
        content="执业类别：护理",
        decision_date=decided_on,
        valid_from=decided_on,
        valid_to=add_years(decided_on, 5) - timedelta(days=1),
        authority=city.authority,
    )


def _inspection(ctx: RecordContext, county: Office, kind: str, item: str) -> Inspection:
    rng = ctx.rng
    inspected_on = ctx.days_ago(10, 2 * 365)
    failed = ctx.subject.profile in (Profile.PENALISED, Profile.DISHONEST) and rng.random() < 0.5
    return Inspection(
        report_number=f"HNWJ{inspected_on.year}{rng.randint(1, 99999):05d}",
        inspection_kind=kind,
        item=item,
        inspected_on=inspected_on,
        result=InspectionResult.FAIL if failed else InspectionResult.PASS,
        failed_items=["细菌总数"] if failed else [],
        authority=county.authority,
    )
