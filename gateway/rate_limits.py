"""Request rate limits per client address and per principal, counted with the `limits` library.

Two checks, both before the query is parsed: the client address when the request arrives (before
its body is read, so floods of malformed requests or bad tokens cost almost nothing), and the
principal once its token is verified (an official by the token's `sub`, since a forged `sub`
would let anyone spend another official's allowance; the public by client address). A refusal
says how long until the window frees a slot, for `Retry-After`.

Counters live in the process (`memory://`) or in Redis, where every instance using the same
Redis and key prefix shares them. The limiter fails open: if Redis is down or slow, requests are
let through and a warning is logged (at most once a minute), because a credit lookup must not
become unavailable for the sake of its own rate limit.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from redis.asyncio import ConnectionPool

from gateway.errors import where_raised
from gateway.rate_limit_settings import RateLimitSettings, parse_rate
from resolvers.principal import Principal

log = logging.getLogger(__name__)

WARN_EVERY_S = 60.0
SWEEP_EVERY_S = 1.0
UNKNOWN_ADDRESS = "unknown"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimited(Exception):
    """Too many requests: `retry_after` seconds until the window frees a slot."""

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(f"rate limited ({what})")
        self.retry_after = retry_after
        self.what = what
        """`address` or `principal`: which limit refused."""


@dataclass
class RateLimits:
    """The app's rate limiter (on `Services`; opened and closed with the lifespan)."""

    settings: RateLimitSettings
    limiter: RateLimiter | None
    """None when rate limiting is off."""
    per_address: tuple[RateLimitItem, ...] = ()
    per_principal: tuple[RateLimitItem, ...] = ()
    per_role: dict[str, tuple[RateLimitItem, ...]] = field(default_factory=dict)
    pool: ConnectionPool | None = None
    _warned_at: float = field(default=-math.inf, init=False, repr=False)

    @classmethod
    async def open(cls, settings: RateLimitSettings) -> RateLimits:
        if not settings.enabled:
            return cls(settings, None)
        pool: ConnectionPool | None = None
        storage: Storage
        if settings.storage.startswith("memory:"):
            storage = SweptMemoryStorage()
        else:
            pool = ConnectionPool.from_url(
                settings.storage,
                socket_timeout=settings.storage_timeout_s,
                socket_connect_timeout=settings.storage_timeout_s,
            )
            storage = RedisStorage(
                "async+" + settings.storage,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=settings.key_prefix,
                # A documented option of RedisStorage (the client is made on this pool, which is
                # ours to close), though its annotation only lists plain values.
                connection_pool=pool,  # type: ignore[arg-type]
            )
        limits = cls(
            settings,
            _limiter(settings.strategy, storage),
            parse_rate(settings.per_address),
            parse_rate(settings.per_principal),
            {role: parse_rate(rate) for role, rate in settings.roles.items()},
            pool,
        )
        if pool is not None and not await storage.check():
            log.warning(
                "[rate_limits] the storage does not answer; requests are let through "
                "unlimited until it does"
            )
        return limits

    async def aclose(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()

    def client_address(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The client's address: the connection's peer, unless that peer is a trusted proxy;
        then the nearest address in `X-Forwarded-For` that is not a trusted proxy (each proxy
        appends the address it was reached from, so addresses further left are the client's
        own claims and are believed only through proxies that are trusted)."""
        if peer is None:
            return UNKNOWN_ADDRESS
        trusted = self.settings.trusted_proxies
        if not trusted:
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        address = peer
        for hop in reversed(hops):
            if not _in_any(address, trusted):
                break
            try:
                address = str(ipaddress.ip_address(hop))
            except ValueError:
                break
        return address

    async def check_address(self, address: str) -> None:
        """Count a request from `address`; `RateLimited` if over `per_address`."""
        if self.limiter is not None and self.per_address:
            await self._hit(self.per_address, "address", "address", address)

    async def check_principal(self, principal: Principal, address: str) -> None:
        """Count a request of `principal` (the public: of its address); `RateLimited` if over
        its rate.

        An official's lookup forwarded by a higher-level gateway counts for that official (the
        key names the gateways too: ids are only unique per identity provider). The public's
        lookups forwarded by a gateway are not counted here: they all arrive as one anonymous
        principal from the gateway's address, and the gateway limited each of its own clients.
        """
        if self.limiter is None:
            return
        rates = self._rates_of(principal.roles)
        if not rates:
            return
        if principal.is_public:
            if principal.via:
                return
            key = f"public@{address}"
        else:
            key = " via ".join((principal.subject, *principal.via))
        await self._hit(rates, "principal", "principal", key)

    def _rates_of(self, roles: Iterable[str]) -> tuple[RateLimitItem, ...]:
        listed = [self.per_role[role] for role in roles if role in self.per_role]
        if not listed:
            return self.per_principal
        return max(listed, key=_sustained_rate)

    async def _hit(self, items: Sequence[RateLimitItem], what: str, *identifiers: str) -> None:
        limiter = self.limiter
        assert limiter is not None
        try:
            for item in items:
                if not await limiter.hit(item, *identifiers):
                    stats = await limiter.get_window_stats(item, *identifiers)
                    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                    raise RateLimited(retry_after, what)
        except RateLimited:
            raise
        except Exception as exc:  # the limiter fails open: see the module's docstring
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY_S:
                self._warned_at = now
                log.warning(
                    "[rate_limits] the storage failed (%s at %s); requests are let through "
                    "unlimited until it answers",
                    type(exc).__name__,
                    where_raised(exc),
                )


class SweptMemoryStorage(MemoryStorage):
    """`limits`' in-process storage, sweeping out expired counters at most once a second.

    Its own schedule starts a sweep of every key after each hit as soon as the previous sweep
    ended: O(active keys) work per request (about 0.2 ms per hit with 1000 principals and
    addresses). The sweep only frees memory (each hit checks its own key's window), so doing it
    once a second changes no decision. The method replaced is private to `limits`;
    tests/unit/test_rate_limits.py fails if an upgrade renames it.
    """

    _next_sweep: float = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_S
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]  # name-mangled


def _limiter(strategy: str, storage: Storage) -> RateLimiter:
    if strategy == "fixed-window":
        return FixedWindowRateLimiter(storage)
    if strategy == "sliding-window-counter":
        return SlidingWindowCounterRateLimiter(storage)
    return MovingWindowRateLimiter(storage)


def _in_any(address: str, networks: Iterable[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _sustained_rate(items: Sequence[RateLimitItem]) -> float:
    """Requests per second a rate allows over its longest window (its binding limit)."""
    return min(item.amount / item.get_expiry() for item in items)
