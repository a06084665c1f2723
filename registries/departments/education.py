"""Education & research: teachers' conduct records, research-integrity violations, private school
licences, and the research-misconduct record.

The registry holds about 30% of natural persons (teachers), the enterprises that run research
projects (a third of technology, chemical, medical and service enterprises, and every large
enterprise) and a few others. Individual businesses are not its concern.
"""

from __future__ import annotations

from datetime import date, timedelta

from connectors.records import (
    EducationRecord,
    Licence,
    ListEntry,
    ResearchViolation,
    TeacherRecord,
)
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.lists import list_entry
from registries.names import CHEMICAL, MEDICAL, SERVICE, TECHNOLOGY
from registries.subjects import Profile, SubjectKind, SubjectSeed

DEPARTMENT = "education"
RESEARCH_MISCONDUCT = "RESEARCH_MISCONDUCT"
HONOUR = "HONOUR"
TEACHER_COVERAGE = 0.30
RESEARCH_COVERAGE = 0.35
OTHER_COVERAGE = 0.08
_RESEARCH_SECTORS = frozenset({TECHNOLOGY, CHEMICAL, MEDICAL, SERVICE})
_MISCONDUCT_ODDS = {
    Profile.CLEAN: 0.0,
    Profile.PENALISED: 0.15,
    Profile.DISHONEST: 0.6,
    Profile.RED: 0.0,
}

_SCHOOLS = ("第一中学", "第二中学", "实验中学", "实验小学", "第三小学", "职业中专学校", "幼儿园")
_POSITIONS = ("教师", "一级教师", "高级教师", "班主任", "教研组长")
_TEACHER_VIOLATIONS = (
    "组织、参与有偿补课",
    "体罚、变相体罚学生",
    "索要、收受学生及家长财物",
    "在招生、考试中徇私舞弊",
    "在教育教学活动中有损害党中央权威的言行",
)
_FUNDERS = (
    ("国家自然科学基金委员会", "NSFC", "面上项目"),
    ("湖南省科学技术厅", "2022JJ", "湖南省自然科学基金项目"),
    ("湖南省科学技术厅", "2023SK", "湖南省重点研发计划项目"),
    ("湖南省教育厅", "22A", "湖南省教育厅科学研究项目"),
)
_TOPICS = (
    "复杂环境下锂离子电池热失控机理研究",
    "稻田镉污染钝化修复关键技术",
    "基于深度学习的工业视觉检测方法",
    "中药有效成分提取工艺优化",
    "城市轨道交通结构健康监测系统",
    "湘江流域水环境容量评估",
)
_MISCONDUCT = (
    ("抄袭剽窃", "项目申请书大量抄袭他人已发表成果"),
    ("数据造假", "结题报告中的实验数据系伪造"),
    ("虚构项目申报材料", "申报材料中的合作单位证明系伪造"),
    ("违规使用科研经费", "以虚假劳务费名义套取项目经费"),
    ("代写代投", "委托第三方机构代写、代投项目成果论文"),
)


def holds(subject: SubjectSeed, roll: float) -> bool:
    if subject.kind is SubjectKind.NATURAL_PERSON:
        return roll < TEACHER_COVERAGE
    if subject.kind is not SubjectKind.LEGAL_PERSON:
        return False
    if subject.large:
        return True
    research = subject.trade is not None and subject.trade.sector in _RESEARCH_SECTORS
    return roll < (RESEARCH_COVERAGE if research else OTHER_COVERAGE)


def build(ctx: RecordContext) -> EducationRecord:
    subject, rng = ctx.subject, ctx.rng
    science = office(Branch.SCIENCE, Level.PROVINCE, subject.division)
    teachers: list[TeacherRecord] = []
    licences: list[Licence] = []
    entries: list[ListEntry] = []
    if subject.kind is SubjectKind.NATURAL_PERSON:
        teachers = _teacher_records(ctx, office(Branch.EDUCATION, Level.COUNTY, subject.division))
        entries += _honour(ctx, office(Branch.EDUCATION, Level.PROVINCE, subject.division))
    elif subject.trade is not None and subject.trade.word == "教育咨询" and rng.random() < 0.6:
        licences.append(
            _school_licence(ctx, office(Branch.EDUCATION, Level.COUNTY, subject.division))
        )
    violations: list[ResearchViolation] = []
    if rng.random() < _MISCONDUCT_ODDS[subject.profile]:
        violations.append(_research_violation(ctx, science))
        if subject.profile is Profile.DISHONEST:
            entries.append(_misconduct_entry(ctx, violations[0], science))
    events = [date(record.year + 1, 1, 15) for record in teachers]
    events += [licence.decision_date for licence in licences]
    events += [violation.decided_on for violation in violations]
    events += [entry.entered_on for entry in entries]
    return EducationRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        licences=licences,
        list_entries=entries,
        teacher_records=teachers,
        research_violations=violations,
    )


def _teacher_records(ctx: RecordContext, county: Office) -> list[TeacherRecord]:
    """One conduct assessment per school year, the latest first; the school and certificate stay."""
    subject, rng = ctx.subject, ctx.rng
    division = subject.division
    school = f"{division.full_name}{rng.choice(_SCHOOLS)}"
    certified = max(2000, (subject.birth_date.year if subject.birth_date else 1980) + 22)
    certificate = f"{certified}{division.code}{ctx.number(7):07d}"
    latest = ctx.today.year - 1
    records = []
    for year in range(latest, latest - rng.randint(1, 3), -1):
        violations: list[str] = []
        if subject.profile is Profile.RED:
            result = "优秀"
        elif subject.profile is Profile.DISHONEST and year == latest:
            result = "不合格"
            violations = rng.sample(_TEACHER_VIOLATIONS, k=rng.randint(1, 2))
        elif subject.profile is Profile.PENALISED and rng.random() < 0.3:
            result = "基本合格"
            violations = [rng.choice(_TEACHER_VIOLATIONS)]
        else:
            result = "优秀" if rng.random() < 0.15 else "合格"
        records.append(
            TeacherRecord(
                school=school,
                position=rng.choice(_POSITIONS),
                certificate_number=certificate,
                year=year,
                conduct_result=result,
                violations=violations,
                authority=county.authority,
            )
        )
    return records


def _honour(ctx: RecordContext, province: Office) -> list[ListEntry]:
    if ctx.subject.profile is not Profile.RED:
        return []
    entered_on = ctx.days_ago(60, 3 * 365)
    return [
        list_entry(
            HONOUR,
            department=DEPARTMENT,
            entered_on=entered_on,
            expires_on=add_years(entered_on, 3),
            reason="获评湖南省优秀教师：师德高尚，教书育人成绩突出",
            basis="《教师和教育工作者奖励规定》",
            document_number=f"湘教发〔{entered_on.year}〕{ctx.number(2)}号",
            authority=province.authority,
        )
    ]


def _school_licence(ctx: RecordContext, county: Office) -> Licence:
    decided_on = ctx.days_ago(60, 5 * 365)
    division = ctx.subject.division_code
    return Licence(
        document_number=f"{county.abbr}教民许〔{decided_on.year}〕{ctx.number(3)}号",
        licence_kind="民办学校办学许可",
        certificate_name="民办学校办学许可证",
        certificate_number=f"教民{division}{ctx.number(8):08d}号",
        content="办学内容：非学科类培训（科技、体育、文化艺术）",
        decision_date=decided_on,
        valid_from=decided_on,
        valid_to=add_years(decided_on, 5) - timedelta(days=1),
        authority=county.authority,
    )


def _research_violation(ctx: RecordContext, science: Office) -> ResearchViolation:
    rng = ctx.rng
    funder, prefix, programme = rng.choice(_FUNDERS)
    started = ctx.today.year - rng.randint(2, 6)
    decided_on = ctx.days_ago(30, 3 * 365)
    kind, finding = rng.choice(_MISCONDUCT)
    serious = ctx.subject.profile is Profile.DISHONEST
    ban_until = add_years(decided_on, rng.choice((3, 5))) if serious else None
    handling = "终止项目，追回已拨付经费" if serious else "责令整改，通报批评"
    if ban_until is not None:
        handling += f"，{ban_until.year - decided_on.year}年内不得申报各级财政资助科研项目"
    code = (
        f"{prefix}{started % 100:02d}{ctx.number(5):05d}"
        if prefix == "NSFC"
        else (f"{prefix}{ctx.number(4):04d}")
    )
    return ResearchViolation(
        project_code=code,
        project_name=f"{programme}：{rng.choice(_TOPICS)}",
        funder=funder,
        violation_type=kind,
        decided_on=decided_on,
        handling=f"经查，{finding}。{handling}",
        ban_until=ban_until,
        authority=science.authority,
    )


def _misconduct_entry(
    ctx: RecordContext, violation: ResearchViolation, science: Office
) -> ListEntry:
    return list_entry(
        RESEARCH_MISCONDUCT,
        department=DEPARTMENT,
        entered_on=violation.decided_on,
        expires_on=violation.ban_until,
        reason=f"科研失信行为：{violation.violation_type}",
        basis="《科研失信行为调查处理规则》第二十八条",
        document_number=f"湘科监〔{violation.decided_on.year}〕{ctx.number(2)}号",
        authority=science.authority,
    )
