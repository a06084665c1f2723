"""Customs: the enterprise credit grade, the customs registration, and the AEO red list.

The registry holds the enterprises registered with customs as consignees or consignors: every
large enterprise, a quarter of those that trade, make or move goods, and a few others. Hunan's
direct customs, 长沙海关, grades them all. ADVANCED_CERTIFIED (the top grade, the AEO) is reserved
for RED subjects and puts them on the AEO red list; DISHONEST ones are graded dishonest.
"""

from __future__ import annotations

from datetime import date, timedelta

from connectors.records import CustomsRecord, Grade, Licence, ListEntry
from registries.authorities import Branch, Level, Office, office
from registries.departments.context import RecordContext
from registries.departments.lists import grade, list_entry
from registries.names import (
    AGRICULTURE,
    CHEMICAL,
    FOOD,
    LOGISTICS,
    MANUFACTURING,
    TECHNOLOGY,
    TRADING,
)
from registries.subjects import Profile, SubjectKind, SubjectSeed

DEPARTMENT = "customs"
GRADE_SCHEME = "customs"
CUSTOMS_AEO = "CUSTOMS_AEO"
TRADING_COVERAGE = 0.25
OTHER_COVERAGE = 0.04
_TRADING_SECTORS = frozenset(
    {TRADING, MANUFACTURING, CHEMICAL, TECHNOLOGY, LOGISTICS, FOOD, AGRICULTURE}
)
_GRADE_ODDS: dict[Profile, tuple[tuple[str, float], ...]] = {
    # ADVANCED_CERTIFIED, the top grade, is reserved for RED subjects.
    Profile.CLEAN: (("REGULAR", 0.85), ("CERTIFIED", 0.15)),
    Profile.PENALISED: (("REGULAR", 0.8), ("DISHONEST", 0.2)),
    Profile.DISHONEST: (("DISHONEST", 0.6), ("SERIOUSLY_DISHONEST", 0.4)),
    Profile.RED: (("ADVANCED_CERTIFIED", 1.0),),
}
AEO_BASIS = "《中华人民共和国海关注册登记和备案企业信用管理办法》第十条"


def holds(subject: SubjectSeed, roll: float) -> bool:
    if subject.kind is not SubjectKind.LEGAL_PERSON:
        return False
    if subject.large:
        return True
    trades = subject.trade is not None and subject.trade.sector in _TRADING_SECTORS
    return roll < (TRADING_COVERAGE if trades else OTHER_COVERAGE)


def build(ctx: RecordContext) -> CustomsRecord:
    subject = ctx.subject
    customs = office(Branch.CUSTOMS, Level.PROVINCE, subject.division)
    registration = _registration(ctx, customs)
    current = _grade(ctx, customs, registration.decision_date)
    entries: list[ListEntry] = []
    if current.value == "ADVANCED_CERTIFIED":
        entries.append(_aeo(ctx, current, customs))
    events = [registration.decision_date, current.assessed_on]
    events += [entry.entered_on for entry in entries]
    return CustomsRecord(
        subject_id=subject.id,
        name=subject.name,
        updated_at=ctx.updated_at(events),
        grades=[current],
        licences=[registration],
        list_entries=entries,
    )


def _registration(ctx: RecordContext, customs: Office) -> Licence:
    """The consignee/consignor filing, which gives the 10-character customs code."""
    rng = ctx.rng
    decided_on = ctx.days_ago(400, 10 * 365)
    if ctx.subject.established_on is not None:
        decided_on = max(decided_on, ctx.subject.established_on)
    division = ctx.subject.division_code
    code = f"{division[:4]}{rng.randint(1, 9)}{rng.choice('69')}{ctx.number(4):04d}"
    return Licence(
        document_number=f"{customs.abbr}备〔{decided_on.year}〕{ctx.number(4)}号",
        licence_kind="海关进出口货物收发货人备案",
        certificate_name="海关进出口货物收发货人备案回执",
        certificate_number=code,
        content="进出口货物收发货人备案，长期有效",
        decision_date=decided_on,
        valid_from=decided_on,
        authority=customs.authority,
    )


def _grade(ctx: RecordContext, customs: Office, registered_on: date) -> Grade:
    """The grade in force: customs re-grades on events, not yearly, so it has no end date."""
    rng = ctx.rng
    odds = _GRADE_ODDS[ctx.subject.profile]
    value = rng.choices([v for v, _ in odds], weights=[w for _, w in odds])[0]
    assessed_on = ctx.day_between(
        max(registered_on, ctx.today - timedelta(days=3 * 365)), ctx.today - timedelta(days=30)
    )
    return grade(
        GRADE_SCHEME,
        value,
        assessed_on=assessed_on,
        authority=customs.authority,
    )


def _aeo(ctx: RecordContext, current: Grade, customs: Office) -> ListEntry:
    return list_entry(
        CUSTOMS_AEO,
        department=DEPARTMENT,
        entered_on=current.assessed_on,
        reason="经海关认证为高级认证企业（AEO），适用海关便利措施",
        basis=AEO_BASIS,
        document_number=f"{customs.abbr}企管〔{current.assessed_on.year}〕{ctx.number(3)}号",
        authority=customs.authority,
    )
