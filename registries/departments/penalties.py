"""Administrative penalties in the "double publicity" format, following the subject's profile.

Each department lists the violations it punishes (with the law it cites); this module turns one into
a decision with a document number, fine and publicity window. The window follows DOMAIN.md: public
from the decision date for at least 3 months (a year if serious) and at most 3 years; about one in
ten penalties past its minimum has been repaired. Decisions reach five years back, so older ones are
already past their window (EXPIRED_HIDDEN).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connectors.records import Penalty, PenaltyKind, Publicity, Severity
from registries.authorities import Office
from registries.departments.context import RecordContext, add_months, add_years
from registries.subjects import Profile

GENERAL_MINIMUM_MONTHS = 3
SERIOUS_MINIMUM_MONTHS = 12
MAXIMUM_YEARS = 3
REPAIR_SHARE = 0.10
OLDEST_DECISION_DAYS = 5 * 365
CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Violation:
    """A kind of violation a department punishes, and how."""

    violation_type: str
    facts: str
    """What was found; ``{day}`` becomes the day of the inspection."""
    legal_basis: str
    kinds: tuple[PenaltyKind, ...]
    fine: tuple[int, int] = (5_000, 50_000)
    """The law's fine range in yuan: general cases fall in its lower half, serious in its upper."""
    serious_kinds: tuple[PenaltyKind, ...] = ()
    """Kinds added when the case is serious (suspension, revocation ...)."""


OfficeFor = Callable[[Severity], Office]

_CONTENT = {
    PenaltyKind.WARNING: "警告",
    PenaltyKind.SUSPENSION: "责令停产停业整顿",
    PenaltyKind.LICENCE_REVOCATION: "吊销许可证件",
    PenaltyKind.QUALIFICATION_DOWNGRADE: "降低资质等级",
    PenaltyKind.PRODUCTION_RESTRICTION: "责令限制生产",
    PenaltyKind.DETENTION: "移送公安机关实施行政拘留",
    PenaltyKind.OTHER: "责令改正违法行为",
}


def penalties_for(
    ctx: RecordContext,
    violations: Sequence[Violation],
    office_for: OfficeFor,
    doc_code: str,
) -> list[Penalty]:
    """The penalties this registry holds against the subject, newest first.

    CLEAN and RED subjects have none; PENALISED ones one to three, mostly general; DISHONEST ones
    one or two recent serious ones, sometimes with an older general one.
    """
    profile = ctx.subject.profile
    rng = ctx.rng
    cases: list[tuple[Severity, int, int]] = []
    if profile is Profile.PENALISED:
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            severity = Severity.SERIOUS if rng.random() < 0.15 else Severity.GENERAL
            cases.append((severity, 15, OLDEST_DECISION_DAYS))
    elif profile is Profile.DISHONEST:
        cases.extend((Severity.SERIOUS, 30, 700) for _ in range(rng.randint(1, 2)))
        if rng.random() < 0.5:
            cases.append((Severity.GENERAL, 15, OLDEST_DECISION_DAYS))
    penalties = [
        make_penalty(
            ctx,
            rng.choice(violations),
            severity,
            ctx.days_ago(fewest, most),
            office_for(severity),
            doc_code,
        )
        for severity, fewest, most in cases
    ]
    return sorted(penalties, key=lambda penalty: penalty.decision_date, reverse=True)


def make_penalty(
    ctx: RecordContext,
    violation: Violation,
    severity: Severity,
    decided_on: date,
    office: Office,
    doc_code: str,
) -> Penalty:
    """One decision: ``{office}{doc_code}〔year〕n号``, e.g. 长环罚〔2025〕123号."""
    rng = ctx.rng
    serious = severity is Severity.SERIOUS
    kinds = list(dict.fromkeys(violation.kinds + (violation.serious_kinds if serious else ())))
    fine = confiscated = None
    content: list[str] = []
    for kind in kinds:
        if kind is PenaltyKind.FINE:
            low, high = violation.fine
            middle = (low + high) // 2
            low, high = (middle, high) if serious else (low, middle)
            step = 1_000 if low >= 10_000 else 100
            fine = Decimal(rng.randint(low // step, high // step) * step).quantize(CENTS)
            content.append(f"罚款人民币{fine:,.2f}元")
        elif kind is PenaltyKind.CONFISCATION:
            confiscated = Decimal(rng.randint(10, 3_000) * 100).quantize(CENTS)
            content.append(f"没收违法所得人民币{confiscated:,.2f}元")
        else:
            content.append(_CONTENT[kind])
    found_on = decided_on - timedelta(days=rng.randint(20, 90))
    minimum = add_months(decided_on, SERIOUS_MINIMUM_MONTHS if serious else GENERAL_MINIMUM_MONTHS)
    until = add_years(decided_on, MAXIMUM_YEARS)
    repaired_on = None
    last_day = ctx.today - timedelta(days=1)
    if minimum < last_day and rng.random() < REPAIR_SHARE:
        repaired_on = ctx.day_between(minimum + timedelta(days=1), min(until, last_day))
    return Penalty(
        document_number=f"{office.abbr}{doc_code}〔{decided_on.year}〕{ctx.number(3)}号",
        violation_type=violation.violation_type,
        facts=violation.facts.format(day=f"{found_on.year}年{found_on.month}月{found_on.day}日"),
        legal_basis=violation.legal_basis,
        kinds=kinds,
        content="；".join(content),
        fine_amount=fine,
        confiscated_amount=confiscated,
        decision_date=decided_on,
        authority=office.authority,
        source_unit=office.authority.name,
        severity=severity,
        publicity=Publicity(
            starts_on=decided_on, minimum_until=minimum, until=until, repaired_on=repaired_on
        ),
    )
