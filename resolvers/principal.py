"""Who is asking: an official from a verified token, or the anonymous public; possibly on whose
behalf a higher-level gateway asks (`via`)."""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC_ROLE = "public"
PII_SCOPE = "pii"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    """The official's id (the token's `sub`); `anonymous` for the public."""
    name: str | None = None
    department: str | None = None
    region: str | None = None
    """The official's 6-digit administrative division code."""
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    via: tuple[str, ...] = ()
    """The gateways that forwarded this principal's lookup, nearest first (a service token's
    `act` chain); empty when the official asked this gateway directly."""
    matter: str | None = None
    """The matter a forwarded lookup was made for: its lookups must name that matter."""

    @property
    def is_public(self) -> bool:
        return self.roles == frozenset({PUBLIC_ROLE})

    @property
    def may_see_pii(self) -> bool:
        return PII_SCOPE in self.scopes


ANONYMOUS = Principal("anonymous", roles=frozenset({PUBLIC_ROLE}))
