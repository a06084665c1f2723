"""Public-resource trading: the bids a subject made, bidding violations, and the trading blacklist.

The registry holds enterprises only: nearly every construction enterprise, every large enterprise
and about a third of the rest (suppliers in government procurement). DISHONEST subjects it holds
are on its current blacklist; some PENALISED ones were on it once (`Story.EXITED_BLACK`) and the
entry has expired.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from connectors.records import (
    Bid,
    BiddingRecord,
    BidRole,
    ListEntry,
    PenaltyKind,
    Severity,
)
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext, add_years
from registries.departments.lists import list_entry
from registries.departments.penalties import Violation, penalties_for
from registries.names import CONSTRUCTION, TECHNOLOGY
from registries.subjects import Profile, Story, SubjectKind, SubjectSeed

DEPARTMENT = "bidding"
BIDDING_BLACKLIST = "BIDDING_BLACKLIST"
CONSTRUCTION_COVERAGE = 0.90
COVERAGE = 0.35
_EXPIRED_SHARE = 0.5
"""Share of `Story.EXITED_BLACK` subjects whose past black-list entry is kept here."""

LAW_BIDDING = "《中华人民共和国招标投标法》"
REG_BIDDING = "《中华人民共和国招标投标法实施条例》"
F, C = PenaltyKind.FINE, PenaltyKind.CONFISCATION
VIOLATIONS = (
    Violation(
        "串通投标",
        "{day}，经调查，当事人与其他投标人在投标文件编制中相互协商投标报价，串通投标。",
        f"{LAW_BIDDING}第五十三条；{REG_BIDDING}第六十七条",
        (F, C),
        (20_000, 200_000),
        (PenaltyKind.QUALIFICATION_DOWNGRADE,),
    ),
    Violation(
        "弄虚作假骗取中标",
        "{day}，经调查，当事人在投标文件中提供虚假业绩证明和项目负责人社保缴纳证明，骗取中标。",
        f"{LAW_BIDDING}第五十四条；{REG_BIDDING}第六十八条",
        (F, C),
        (20_000, 200_000),
        (PenaltyKind.QUALIFICATION_DOWNGRADE,),
    ),
    Violation(
        "以他人名义投标",
        "{day}，经调查，当事人借用其他单位资质参加投标。",
        f"{LAW_BIDDING}第五十四条",
        (F,),
        (10_000, 100_000),
    ),
    Violation(
        "中标后无正当理由不与招标人订立合同",
        "{day}，当事人被确定为中标人后，无正当理由拒绝与招标人订立合同。",
        f"{REG_BIDDING}第七十四条",
        (F, PenaltyKind.OTHER),
        (10_000, 100_000),
    ),
    Violation(
        "违法转包、分包中标项目",
        "{day}，经检查，当事人将中标项目肢解后分别转让给他人。",
        f"{LAW_BIDDING}第五十八条",
        (F, C),
        (20_000, 200_000),
        (PenaltyKind.SUSPENSION,),
    ),
)
DOC_CODE = "发改招罚"

_WORKS = (
    "道路提质改造工程",
    "安置小区建设项目",
    "污水管网改造工程",
    "中学教学楼建设工程",
    "农村饮水安全巩固提升工程",
)
_GOODS = (
    "教学设备采购项目",
    "医疗设备采购项目",
    "办公家具采购项目",
    "公务用车采购项目",
    "食材配送服务采购项目",
)
_SERVICES = ("信息化平台建设项目", "物业管理服务采购项目", "政务云服务采购项目", "监理服务项目")
_LOSING_RESULTS = ("未中标", "未中标", "未中标", "投标无效（资格审查未通过）", "废标")


def holds(subject: SubjectSeed, roll: float) -> bool:
    if subject.kind is not SubjectKind.LEGAL_PERSON:
        return False
    if subject.large:
        return True
    construction = subject.trade is not None and subject.trade.sector == CONSTRUCTION
    return roll < (CONSTRUCTION_COVERAGE if construction else COVERAGE)


def build(ctx: RecordContext) -> BiddingRecord:
    subject, rng = ctx.subject, ctx.rng
    city = office(Branch.DEVELOPMENT, Level.CITY, subject.division)
    province = office(Branch.DEVELOPMENT, Level.PROVINCE, subject.division)

    def office_for(severity: Severity) -> Office:
        return province if severity is Severity.SERIOUS and rng.random() < 0.3 else city

    bids = sorted(
        (_bid(ctx) for _ in range(rng.randint(1, 5))), key=lambda bid: bid.bid_on, reverse=True
    )
    penalties = penalties_for(ctx, VIOLATIONS, office_for, DOC_CODE)
    entries = _black_list(ctx, city, province, [p.decision_date for p in penalties])
    events = [bid.bid_on for bid in bids]
    events += [penalty.decision_date for penalty in penalties]
    events += [entry.entered_on for entry in entries]
    return BiddingRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        penalties=penalties,
        list_entries=entries,
        bids=bids,
    )


def _bid(ctx: RecordContext) -> Bid:
    subject, rng = ctx.subject, ctx.rng
    division = subject.division
    provincial = rng.random() < 0.25
    centre = "湖南省公共资源交易中心" if provincial else f"{division.city.name}公共资源交易中心"
    place = "湖南省" if provincial else division.city.name
    sector = subject.trade.sector if subject.trade else ""
    if sector == CONSTRUCTION:
        kind, project, scale = "GC", f"{division.full_name}{rng.choice(_WORKS)}", (2_000, 80_000)
    elif sector == TECHNOLOGY:
        kind, project, scale = "CG", f"{place}{rng.choice(_SERVICES)}", (300, 8_000)
    else:
        kind, project, scale = "CG", f"{place}{rng.choice(_GOODS)}", (100, 5_000)
    bid_on = ctx.days_ago(20, 3 * 365)
    code = "430000" if provincial else division.city.code
    roll = rng.random()
    if subject.profile is Profile.RED:
        roll *= 0.6  # red-listed bidders win more often (and get the bidding bonus)
    if roll < 0.3:
        role, result = BidRole.WINNER, "中标"
    elif roll < 0.4:
        role, result = BidRole.CONSORTIUM_MEMBER, rng.choice(("中标（联合体成员）", "未中标"))
    else:
        role, result = BidRole.BIDDER, rng.choice(_LOSING_RESULTS)
    amount = None
    if rng.random() < 0.9:
        amount = Decimal(rng.randint(*scale) * 1_000).quantize(Decimal("0.01"))
    return Bid(
        project_code=f"{code}-{bid_on.year}-{kind}{ctx.number(5):05d}",
        project_name=project,
        trading_centre=centre,
        role=role,
        bid_on=bid_on,
        amount=amount,
        result=result,
    )


def _black_list(
    ctx: RecordContext, city: Office, province: Office, decisions: list[date]
) -> list[ListEntry]:
    """DISHONEST: listed after a serious violation, for three years, so still in force; EXITED:
    listed years ago for one year, long expired."""
    subject, rng = ctx.subject, ctx.rng
    if subject.profile is Profile.DISHONEST:
        entered_on = min(
            (max(decisions) if decisions else ctx.days_ago(60, 700))
            + timedelta(days=rng.randint(5, 30)),
            ctx.today - timedelta(days=1),
        )
        expires_on = add_years(entered_on, 3)
    elif subject.story is Story.EXITED_BLACK and rng.random() < _EXPIRED_SHARE:
        entered_on = ctx.days_ago(2 * 365, 4 * 365)
        expires_on = add_years(entered_on, 1)
    else:
        return []
    authority = province if rng.random() < 0.3 else city
    return [
        list_entry(
            BIDDING_BLACKLIST,
            department=DEPARTMENT,
            entered_on=entered_on,
            expires_on=expires_on,
            reason="在公共资源交易活动中串通投标、弄虚作假，情节严重",
            basis="《湖南省公共资源交易市场主体信用管理办法》第二十条",
            document_number=f"{authority.abbr}发改招信〔{entered_on.year}〕{ctx.number(3)}号",
            authority=authority.authority,
        )
    ]
