"""Courts: dishonest judgment debtors [失信被执行人], enterprises and natural persons alike.

The registry holds every DISHONEST subject (each on the list now, for one or two enforcement
cases), every subject whose story involves the list (`Story.EXITED_BLACK`: a case performed and the
listing removed; `Story.BLACK_AND_RED`: a current case despite red lists) and every large enterprise
(a record with no case: checked, nothing found). Each publication is both a `JudgmentDebtorCase`
(why) and a ``JUDGMENT_DEBTOR`` list entry (the effect), keyed by the case number.

Legal representatives of `Story.DISHONEST_OFFICER` enterprises are chosen among the persons this
registry lists (`currently_listed`), so following an enterprise to its officer lands here.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from connectors.records import CourtRecord, JudgmentDebtorCase, ListEntry, PerformanceStatus
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext
from registries.departments.lists import list_entry
from registries.subjects import Profile, Story, SubjectKind, SubjectSeed

DEPARTMENT = "court"
JUDGMENT_DEBTOR = "JUDGMENT_DEBTOR"
_LISTING_STORIES = frozenset({Story.EXITED_BLACK, Story.BLACK_AND_RED})

# (what the judgment requires, the range of the sum in yuan)
_BUSINESS_OBLIGATIONS = (
    ("支付货款人民币{amount}元及逾期付款利息", (50_000, 3_000_000)),
    ("偿还借款本金人民币{amount}元及利息", (200_000, 10_000_000)),
    ("支付工程款人民币{amount}元", (300_000, 20_000_000)),
    ("支付拖欠的劳动报酬人民币{amount}元", (20_000, 800_000)),
    ("支付租金人民币{amount}元及违约金", (30_000, 1_000_000)),
)
_PERSON_OBLIGATIONS = (
    ("偿还借款本金人民币{amount}元及利息", (20_000, 2_000_000)),
    ("对借款人民币{amount}元承担连带保证责任", (100_000, 5_000_000)),
    ("赔偿损失人民币{amount}元", (10_000, 500_000)),
)
# (conduct, item of article 1 of the Supreme People's Court's provisions on publishing the list)
_CONDUCT = (
    ("有履行能力而拒不履行生效法律文书确定义务", 1),
    ("以伪造证据、暴力、威胁等方法妨碍、抗拒执行", 2),
    ("以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行", 3),
    ("违反财产报告制度", 4),
    ("违反限制消费令", 5),
    ("无正当理由拒不履行执行和解协议", 6),
)
BASIS = "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第{item}项"
ITEMS = ("", "一", "二", "三", "四", "五", "六")


def currently_listed(subject: SubjectSeed) -> bool:
    """Whether this registry lists `subject` as a dishonest judgment debtor today."""
    return subject.profile is Profile.DISHONEST or subject.story is Story.BLACK_AND_RED


def holds(subject: SubjectSeed, roll: float) -> bool:
    return currently_listed(subject) or subject.story in _LISTING_STORIES or subject.large


def build(ctx: RecordContext) -> CourtRecord:
    subject, rng = ctx.subject, ctx.rng
    listings: list[tuple[JudgmentDebtorCase, ListEntry]] = []
    if subject.profile is Profile.DISHONEST:
        listings += [_listing(ctx, current=True) for _ in range(rng.choice((1, 1, 2)))]
    elif subject.story is Story.BLACK_AND_RED:
        listings.append(_listing(ctx, current=True))
    if subject.story is Story.EXITED_BLACK or (
        subject.profile is Profile.DISHONEST and rng.random() < 0.2
    ):
        listings.append(_listing(ctx, current=False))
    listings.sort(key=lambda listing: listing[0].published_on, reverse=True)
    cases = [case for case, _ in listings]
    events = [case.published_on for case in cases]
    events += [case.exited_on for case in cases if case.exited_on is not None]
    return CourtRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        list_entries=[entry for _, entry in listings],
        judgment_debtor_cases=cases,
    )


def _court(ctx: RecordContext) -> tuple[Office, str]:
    """The enforcing court and its code in case numbers: mostly the basic court of the subject's
    county (湘0104), sometimes the city's intermediate court (湘01)."""
    division = ctx.subject.division
    if ctx.rng.random() < 0.2:
        return office(Branch.COURT, Level.CITY, division), f"湘{division.code[2:4]}"
    return office(Branch.COURT, Level.COUNTY, division), f"湘{division.code[2:6]}"


def _listing(ctx: RecordContext, *, current: bool) -> tuple[JudgmentDebtorCase, ListEntry]:
    """One publication: a current one (in the last two years, not performed), or an old one whose
    listing was removed after the debtor performed. The case says why, the entry is the effect."""
    rng = ctx.rng
    court, code = _court(ctx)
    if current:
        published_on = ctx.days_ago(20, 2 * 365)
        performance = rng.choice(
            (PerformanceStatus.NOT_PERFORMED, PerformanceStatus.PARTLY_PERFORMED)
        )
        exited_on = None
    else:
        published_on = ctx.days_ago(2 * 365, 5 * 365)
        performance = PerformanceStatus.PERFORMED
        exited_on = ctx.day_between(
            published_on + timedelta(days=30), ctx.today - timedelta(days=30)
        )
    filed_on = published_on - timedelta(days=rng.randint(40, 300))
    person = ctx.subject.kind is SubjectKind.NATURAL_PERSON
    obligation, (low, high) = rng.choice(_PERSON_OBLIGATIONS if person else _BUSINESS_OBLIGATIONS)
    amount = Decimal(rng.randint(low // 100, high // 100) * 100)
    conduct, item = rng.choice(_CONDUCT)
    case = JudgmentDebtorCase(
        case_number=f"（{filed_on.year}）{code}执{rng.randint(1, 9999)}号",
        court=court.authority,
        filed_on=filed_on,
        published_on=published_on,
        obligation=obligation.format(amount=f"{amount:,.2f}"),
        performance=performance,
        dishonest_conduct=conduct,
        exited_on=exited_on,
    )
    entry = list_entry(
        JUDGMENT_DEBTOR,
        department=DEPARTMENT,
        entered_on=published_on,
        exited_on=exited_on,
        reason=conduct,
        basis=BASIS.format(item=ITEMS[item]),
        document_number=case.case_number,
        authority=court.authority,
    )
    return case, entry
