"""The catalogue of administrative matters [计划目录], and the purpose check of a lookup.

Every department files the matters in which it uses credit records; an official's lookup must
name one, registered for the official's department or marked shared (used by every department,
like admitting a bidder or granting fiscal funds). The public needs none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.catalog import DEPARTMENTS
from resolvers.errors import CodedError, ErrorCode
from resolvers.principal import Principal

KNOWN_DEPARTMENTS = frozenset({*DEPARTMENTS, "credit_office"})
"""Who may file matters: every department of the schema, and the credit office (which keeps no
registry of its own, so no matter's `sections` names it)."""


@dataclass(frozen=True, slots=True)
class Matter:
    id: str
    name: str
    department: str
    legal_basis: str
    operating_method: str
    sections: tuple[str, ...]
    measures: tuple[str, ...]
    shared: bool = False


@dataclass(frozen=True, slots=True)
class Catalogue:
    matters: tuple[Matter, ...]
    _by_id: dict[str, Matter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Looked up on every official's lookup (the purpose check): by id, not by a scan.
        object.__setattr__(self, "_by_id", {m.id: m for m in self.matters})

    def get(self, matter_id: str) -> Matter | None:
        return self._by_id.get(matter_id)

    def of_department(self, department: str | None) -> list[Matter]:
        if department is None:
            return list(self.matters)
        return [m for m in self.matters if m.department == department]

    def purpose(self, principal: Principal, matter_id: str | None) -> Matter | None:
        """The matter a lookup serves; raises when an official's lookup has no valid purpose.

        A lookup forwarded by a higher-level gateway is bound to the matter it was made for."""
        if principal.matter is not None and matter_id != principal.matter:
            raise CodedError(
                ErrorCode.FORBIDDEN,
                f"This lookup was forwarded for matter {principal.matter}; it cannot name another.",
            )
        if matter_id is None:
            if principal.is_public:
                return None
            raise CodedError(
                ErrorCode.PURPOSE_REQUIRED,
                "An official's lookup must name the administrative matter it serves (`matter`); "
                "see `matters` for your department's catalogue.",
            )
        matter = self.get(matter_id)
        if matter is None:
            raise CodedError(
                ErrorCode.UNKNOWN_MATTER,
                f"{matter_id!r} is not in the catalogue of administrative matters.",
            )
        if principal.is_public or matter.shared or matter.department == principal.department:
            return matter
        raise CodedError(
            ErrorCode.FORBIDDEN,
            f"Matter {matter.id} is registered for the {matter.department} department, "
            "not yours, and is not shared.",
        )
