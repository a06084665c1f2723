"""The `[rate_limits]` section of the config: how many requests a principal and a client address
may make, and where the counters are kept (in the process, or in Redis shared by instances)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, field_validator

STORAGE_SCHEMES = ("memory", "redis", "rediss")


def parse_rate(rate: str) -> tuple[RateLimitItem, ...]:
    """The limits of a rate string in the `limits` notation (`600/minute`, `10/second;600/hour`);
    an empty string means no limit."""
    if not rate.strip():
        return ()
    return tuple(parse_many(rate))


class RateLimitSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    per_principal: str = "600/minute"
    """Requests of one official (the token's `sub`); the public is one principal per client
    address. `""` turns this limit off."""
    per_address: str = "3000/minute"
    """Requests from one client address, whoever sends them, counted before anything else is
    read (so floods of malformed requests or bad tokens are refused cheaply). `""` turns it off.
    Size it for the busiest legitimate address: an office behind NAT, a higher-level gateway."""
    roles: dict[str, str] = Field(default_factory=dict)
    """`per_principal` for principals with these roles (`public = "60/minute"`); a principal with
    several listed roles gets the most generous of their rates."""
    strategy: Literal["sliding-window-counter", "moving-window", "fixed-window"] = (
        "sliding-window-counter"
    )
    """How requests are counted (the `limits` library's strategies). The sliding window counter
    keeps two counters per key and weighs the previous window's by how much of it still overlaps:
    close to exact, and constant memory. A moving window is exact but keeps a timestamp per
    request in the window (600 per official at "600/minute"; too much for the public's many
    addresses). A fixed window is cheapest but lets up to twice the rate through around a
    window's edge."""
    storage: str = "memory://"
    """`memory://` (counters per instance) or `redis://[:password@]host:port/db` (`rediss://`
    for TLS): one set of counters shared by every instance using that Redis."""
    key_prefix: str = Field(default="credit-gateway", pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    """Prefix of the counters' Redis keys: gateways sharing a Redis share counters only if they
    use the same prefix."""
    storage_timeout_s: float = Field(default=0.5, gt=0, le=10)
    """How long one Redis call may take. When Redis fails or is slower, the request is let
    through (and a warning logged): the limiter never makes the gateway unavailable."""
    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    """Proxies (addresses or networks) whose `X-Forwarded-For` names the client. Without them,
    the client address is the peer of the connection and `X-Forwarded-For` is ignored."""

    @field_validator("per_principal", "per_address")
    @classmethod
    def _rate(cls, rate: str) -> str:
        _check_rate(rate)
        return rate

    @field_validator("roles")
    @classmethod
    def _role_rates(cls, roles: dict[str, str]) -> dict[str, str]:
        for role, rate in roles.items():
            if not rate.strip():
                raise ValueError(f"{role}: a role's rate cannot be empty")
            _check_rate(rate, role)
        return roles

    @field_validator("storage")
    @classmethod
    def _storage(cls, storage: str) -> str:
        scheme = urlsplit(storage).scheme
        if scheme not in STORAGE_SCHEMES:
            raise ValueError(
                f"storage must be memory:// or a redis:// or rediss:// URL, not a {scheme!r} URL"
            )
        return storage


def _check_rate(rate: str, role: str | None = None) -> None:
    where = f"{role}: " if role else ""
    try:
        parse_rate(rate)
    except ValueError as exc:
        raise ValueError(
            f"{where}{rate!r} is not a rate such as '600/minute' or '10/second;600/hour'"
        ) from exc
