"""What each department's registry holds: coverage and record builders, one module per department.

A department module exposes ``holds(subject, roll)`` (whether its registry knows the subject, from
one uniform draw so paging and lookups agree without building the record) and ``build(ctx)``.
What several departments must tell alike (a large enterprise is known everywhere, the court lists a
subject another department rewards) comes from the subject (`SubjectSeed.large`, `.story`), never
from another department's draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connectors.records import RECORD_MODELS, SubjectRecord
from registries.departments import (
    bidding,
    commerce,
    court,
    credit_agency,
    customs,
    education,
    environment,
    food_drug,
    health,
    quality,
    tax,
)
from registries.departments.context import RecordContext
from registries.subjects import SubjectSeed


@dataclass(frozen=True, slots=True)
class DepartmentRules:
    holds: Callable[[SubjectSeed, float], bool]
    build: Callable[[RecordContext], SubjectRecord]


RULES: dict[str, DepartmentRules] = {
    "environment": DepartmentRules(environment.holds, environment.build),
    "quality": DepartmentRules(quality.holds, quality.build),
    "health": DepartmentRules(health.holds, health.build),
    "commerce": DepartmentRules(commerce.holds, commerce.build),
    "food_drug": DepartmentRules(food_drug.holds, food_drug.build),
    "bidding": DepartmentRules(bidding.holds, bidding.build),
    "education": DepartmentRules(education.holds, education.build),
    "tax": DepartmentRules(tax.holds, tax.build),
    "customs": DepartmentRules(customs.holds, customs.build),
    "court": DepartmentRules(court.holds, court.build),
    "credit_agency": DepartmentRules(credit_agency.holds, credit_agency.build),
}
DEPARTMENTS: tuple[str, ...] = tuple(RULES)
"""Every department served, in the order of their ports (registries/cli.py)."""

if set(RULES) != set(RECORD_MODELS):  # pragma: no cover - a contract change must be matched here
    raise RuntimeError("registries.departments.RULES must cover connectors.records.RECORD_MODELS")


class UnknownDepartment(ValueError):
    """A department key the reference registries do not serve."""

    def __init__(self, department: str) -> None:
        super().__init__(
            f"unknown department {department!r}: the reference registries serve "
            f"{', '.join(DEPARTMENTS)} (the departments of connectors.records.RECORD_MODELS)"
        )
        self.department = department


def rules_for(department: str) -> DepartmentRules:
    """The rules of `department`; raises `UnknownDepartment` for any other key."""
    try:
        return RULES[department]
    except KeyError:
        raise UnknownDepartment(department) from None
